using FileXfer.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client.Local;

/// <summary>
/// A local file being sent, for a single put and a batch's puts alike: opened once, described by that open file (size,
/// time, permission bits from one <c>fstat</c> on Linux), read to its real end when its size lies (a FIFO, a <c>/proc</c>
/// file whose size says 0), and examined again after it was sent to tell whether it changed meanwhile.
/// </summary>
internal sealed class LocalSource(string path, Stream stream, long size, DateTimeOffset modified, int? mode, bool isFifo, SafeFileHandle? directory)
    : IAsyncDisposable
{
    /// <summary>The local path, as given.</summary>
    public string Path => path;

    /// <summary>The open file; seekable unless it is a FIFO.</summary>
    public Stream Stream => stream;

    /// <summary>The size the file had when it was opened (0 for a FIFO and for a <c>/proc</c> file).</summary>
    public long Size => size;

    /// <summary>The modification time the file had when it was opened; now for a FIFO.</summary>
    public DateTimeOffset Modified => modified;

    /// <summary>The permission bits; null where the system has none to give, and for a FIFO.</summary>
    public int? Mode => mode;

    /// <summary>True for a FIFO: it has no size until it is read to its end, and can be read only once.</summary>
    public bool IsFifo => isFifo;

    /// <summary>
    /// The length a chunked body of this file is held to: none when its size says 0, for a <c>/proc</c> file has that
    /// size and bytes all the same (it is then read to its end); the size itself for any other file.
    /// </summary>
    public long? ChunkedLength => Size == 0 ? null : Size;

    /// <summary>
    /// True when the file must be read to its real end, whatever its size says: a FIFO, or a file whose size says 0 but
    /// that gives bytes when read (in <c>/proc</c>). A put of it cannot have a fixed length.
    /// </summary>
    public bool IsOpenEnded => IsFifo || (Size == 0 && HoldsBytes());

    /// <summary>
    /// True when the path is a FIFO, which a put reads once (a retry cannot send it again). A device or a socket is
    /// refused here, before anything is opened or sent.
    /// </summary>
    /// <exception cref="FileXfer.Protocol.FileXferException">With <see cref="FileXfer.Protocol.ErrorCode.BadRequest"/>: the path is a device or a socket.</exception>
    public static bool IsReadOnce(string path) => SpecialFiles.Check(path, FileAccess.Read) == LocalFileKind.Fifo;

    /// <summary>
    /// Opens a single put's source: a FIFO in place (waiting for its writer, which <paramref name="cancellationToken"/>
    /// can end), any other file as <see cref="Open"/> does; a device or a socket is refused.
    /// </summary>
    /// <exception cref="FileXfer.Protocol.FileXferException">With <see cref="FileXfer.Protocol.ErrorCode.BadRequest"/>: the path is a device or a socket.</exception>
    public static async Task<LocalSource> OpenAsync(string path, CancellationToken cancellationToken)
    {
        if (IsReadOnce(path))
        {
            var fifo = await SpecialFiles.OpenAsync(path, LocalFileKind.Fifo, FileAccess.Read, cancellationToken);
            return new LocalSource(path, fifo, 0, DateTimeOffset.UtcNow, mode: null, isFifo: true, directory: null);
        }

        return Open(path, directory: null);
    }

    /// <summary>
    /// Opens a file to send and reads its size, time and permission bits: on Linux one open and one fstat of the handle
    /// (so the three describe the file that is read), relative to <paramref name="directory"/> (its parent's handle, held
    /// by a batch) when given; elsewhere through .NET. A symbolic link is followed, as open(2) does.
    /// </summary>
    /// <exception cref="IOException">The file cannot be opened or examined.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be read.</exception>
    public static LocalSource Open(string path, SafeFileHandle? directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            var file = InlineFileStream.OpenRead(path);
            var modified = new DateTimeOffset(new FileInfo(path).LastWriteTimeUtc, TimeSpan.Zero);
            return new LocalSource(path, file, file.Length, modified, OperatingSystem.IsWindows() ? null : (int)File.GetUnixFileMode(file.Handle), isFifo: false, directory: null);
        }

        var handle = directory is null ? Posix.OpenRead(path) : Posix.OpenReadAt(directory, System.IO.Path.GetFileName(path), path);
        if (!Posix.TryStat(handle, out var status, out int errno))
        {
            handle.Dispose();
            throw new IOException($"cannot examine '{path}' (errno {errno})");
        }

        return new LocalSource(path, InlineFileStream.FromHandle(handle, FileAccess.Read, status.Size), status.Size, status.ModifiedUtc, status.PermissionBits, isFifo: false, directory);
    }

    /// <summary>
    /// True when the file at <see cref="Path"/> now differs from the one opened: another size (against the size it had
    /// when opened: a <c>/proc</c> file's stays 0), another modification time, or no file at all. A FIFO never changes.
    /// </summary>
    public bool HasChanged()
    {
        if (IsFifo)
        {
            return false;
        }

        if (OperatingSystem.IsLinux())
        {
            var found = directory is null
                ? Posix.TryStat(path, followLinks: true, out var status, out _)
                : Posix.TryStatAt(directory, System.IO.Path.GetFileName(path), followLinks: true, out status, out _);
            return !found || status.Size != Size || status.ModifiedUtc != Modified;
        }

        var info = new FileInfo(Path);
        return !info.Exists || info.Length != Size || new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero) != Modified;
    }

    /// <summary>The open file's handle, for positional reads of its ranges; null for a FIFO.</summary>
    public SafeFileHandle? Handle => (stream as InlineFileStream)?.Handle;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Stream.DisposeAsync();

    /// <summary>True when a file whose size says 0 gives a byte when read; it is left at its start.</summary>
    private bool HoldsBytes()
    {
        Span<byte> first = stackalloc byte[1];
        bool holds = Stream.Read(first) > 0;
        Stream.Position = 0;
        return holds;
    }
}
