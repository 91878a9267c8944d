using System.Buffers.Binary;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// How much of a resumable partial upload survives a power loss, kept beside its bytes in an extended attribute
/// (<c>user.filexfer.durable</c>: a little-endian 64-bit length, then the 16-byte id of the boot that wrote it). The
/// length is raised only after the bytes below it were flushed (<see cref="Advance"/>), and lowered before bytes below
/// it are replaced (<see cref="Lower"/>). A resume is offered the whole partial while the machine has not restarted
/// since the record was written (a server killed or crashed leaves its writes in the page cache), and only the
/// recorded length after a restart (a power loss may have taken the rest): without the record, a partial whose tail a
/// power loss turned to zeros would be offered whole, fail the client's hash check, and be sent again from the start.
/// </summary>
/// <remarks>
/// Every upload of a partial records first (<see cref="PendingUpload.ContinueAt"/>), so a partial written to in
/// this boot always has a record of this boot. On a file system without user attributes the whole partial is offered,
/// as before the record existed; the client's check of the held bytes' hash still refuses a damaged one. Failures to
/// keep the record are ignored: a record only ever claims less than the disk holds.
/// </remarks>
internal static class DurablePrefix
{
    private const string AttributeName = "user.filexfer.durable";
    private const int RecordBytes = sizeof(long) + 16;

    private static readonly Lazy<Guid> CurrentBoot = new(ReadBootId);

    /// <summary>
    /// What a resume of <paramref name="partial"/> (now <paramref name="length"/> long) may be offered, and how much of
    /// it is known to be on disk.
    /// </summary>
    public static (long Held, long Durable) Claim(SafeFileHandle partial, long length)
    {
        if (!OperatingSystem.IsLinux() || length == 0)
        {
            return (length, length);
        }

        Span<byte> record = stackalloc byte[RecordBytes];
        int read = ExtendedAttributes.Get(partial, AttributeName, record, out int errno);
        if (read == RecordBytes)
        {
            long durable = Math.Clamp(BinaryPrimitives.ReadInt64LittleEndian(record), 0, length);
            bool sameBoot = new Guid(record[sizeof(long)..]) == CurrentBoot.Value && CurrentBoot.Value != Guid.Empty;
            return (sameBoot ? length : durable, durable);
        }

        // No record where records are kept: a partial from before they existed, or one whose first record a power loss
        // took; offer nothing. Where records cannot be kept, the client's hash check is the guard.
        return read < 0 && errno is ExtendedAttributes.Unsupported ? (length, length) : (0, 0);
    }

    /// <summary>Flushes <paramref name="partial"/> and records its first <paramref name="length"/> bytes as durable.</summary>
    public static void Advance(InlineFileStream partial, long length)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            partial.FlushToDisk();
        }
        catch (IOException)
        {
            // Not on disk: the record stays where it was.
            return;
        }

        Record(partial.Handle, length, CurrentBoot.Value);
    }

    /// <summary>Records, in this boot, that at most <paramref name="length"/> bytes are durable, before those past it are replaced.</summary>
    public static void Lower(SafeFileHandle partial, long length)
    {
        if (OperatingSystem.IsLinux())
        {
            Record(partial, length, CurrentBoot.Value);
        }
    }

    /// <summary>This boot's id (empty where it cannot be read).</summary>
    internal static Guid Boot => CurrentBoot.Value;

    /// <summary>Writes a record as a given boot would have (tests: a partial left before a restart).</summary>
    internal static void Record(SafeFileHandle partial, long length, Guid boot)
    {
        Span<byte> record = stackalloc byte[RecordBytes];
        BinaryPrimitives.WriteInt64LittleEndian(record, length);
        boot.TryWriteBytes(record[sizeof(long)..]);
        _ = ExtendedAttributes.Set(partial, AttributeName, record);
    }

    // Changes at every boot: a record of another boot was written before a restart, perhaps a power loss. The power-loss
    // harness (bench/durability) stands for a reboot with FILEXFER_BOOT_ID: its simulated losses do not restart the machine.
    private static Guid ReadBootId()
    {
        if (Guid.TryParse(Environment.GetEnvironmentVariable("FILEXFER_BOOT_ID"), out var simulated))
        {
            return simulated;
        }

        try
        {
            return Guid.TryParse(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), out var id) ? id : Guid.Empty;
        }
        catch (IOException)
        {
            return Guid.Empty;
        }
    }
}
