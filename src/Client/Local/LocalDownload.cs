using System.Text;
using FileXfer.Platform;
using FileXfer.Protocol.Transfer;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client.Local;

/// <summary>
/// One file being received, for a single get and a batch's gets alike: a temp file beside its destination that takes
/// the body, then the sender's time and mode, and waits for <see cref="LocalCommit"/> to make it durable and rename it
/// into place. Disposed before that, it leaves no temp file behind, except a resumable one kept for the next try.
/// </summary>
internal sealed class LocalDownload : IAsyncDisposable
{
    /// <summary>A body up to this size is written without asking the file system for room: a full disk fails its write cleanly.</summary>
    private const long RoomCheckLimit = 64 * 1024;

    private readonly LatchingWriteStream _sink;
    private readonly Exception? _openFailure;
    private InlineFileStream? _file;
    private bool _keep;
    private bool _committed;

    private LocalDownload(string localPath, string destination, string temp, InlineFileStream? file, Exception? openFailure, SafeFileHandle? directory, ulong device)
    {
        LocalPath = localPath;
        Destination = destination;
        Temp = temp;
        _file = file;
        _openFailure = openFailure;
        _sink = new LatchingWriteStream(file ?? Stream.Null);
        Directory = directory;
        Device = device;
    }

    /// <summary>The destination as the caller named it, for messages.</summary>
    public string LocalPath { get; }

    /// <summary>The destination's full path.</summary>
    public string Destination { get; }

    /// <summary>The temp file's full path.</summary>
    public string Temp { get; }

    /// <summary>Where the body goes: writes that fail are latched, so the body is still read to its end and the connection stays in step.</summary>
    public Stream Sink => _sink;

    /// <summary>How many bytes a resumable download's temp file holds from an earlier try.</summary>
    public long Held => _file?.Length ?? 0;

    /// <summary>The verified transfer, once <see cref="FinishAsync"/> took it.</summary>
    public TransferResult Result { get; private set; } = null!;

    /// <summary>
    /// Why the sender's time or permission bits could not be given to the file (a file system that refuses them, a file
    /// another user owns), once <see cref="FinishAsync"/> tried: the verified data is committed all the same, and the
    /// commit reports this as its failure.
    /// </summary>
    public LocalWriteException? AttributesFailure { get; private set; }

    /// <summary>The handle of the directory the temp file was created in (a batch's), when it has one; the file is closed once finished.</summary>
    internal SafeFileHandle? Directory { get; }

    /// <summary>The file system of <see cref="Directory"/> (0 when unknown).</summary>
    internal ulong Device { get; }

    /// <summary>The temp file while it is open: until <see cref="LocalCommit"/> closes it, or at once when finished through a directory handle.</summary>
    internal InlineFileStream? File => _file;

    /// <summary>
    /// Creates a new temp file, under a random name, beside <paramref name="localPath"/>: through the directory's handle
    /// when <paramref name="directories"/> (a batch's) has one. A failure to create it is raised by <see cref="FinishAsync"/>,
    /// after the body was read, so the connection stays in step.
    /// </summary>
    /// <exception cref="LocalWriteException">The path has no parent directory.</exception>
    public static LocalDownload Create(string localPath, LocalDirectories? directories)
    {
        var full = System.IO.Path.GetFullPath(localPath);
        var directory = System.IO.Path.GetDirectoryName(full) ?? throw new LocalWriteException(new IOException($"'{localPath}' has no parent directory"));
        var tempName = TempFileName(System.IO.Path.GetFileName(full));
        var temp = System.IO.Path.Combine(directory, tempName);
        ulong device = 0;
        var directoryHandle = directories?.Get(directory, out device);
        try
        {
            var file = directoryHandle is null ? InlineFileStream.CreateNew(temp) : InlineFileStream.CreateNewAt(directoryHandle, tempName);
            return new LocalDownload(localPath, full, temp, file, null, directoryHandle, device);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new LocalDownload(localPath, full, temp, null, ex, directoryHandle, device);
        }
    }

    /// <summary>
    /// Opens, or creates, the temp file of a resumable download beside <paramref name="localPath"/>, under a fixed name so
    /// the next try finds it; a symbolic link planted under that name is not followed.
    /// </summary>
    /// <exception cref="LocalWriteException">It cannot be opened.</exception>
    public static LocalDownload OpenResumable(string localPath)
    {
        var full = System.IO.Path.GetFullPath(localPath);
        var directory = System.IO.Path.GetDirectoryName(full) ?? throw new IOException($"'{localPath}' has no parent directory");
        var temp = System.IO.Path.Combine(directory, TempFileName(System.IO.Path.GetFileName(full), random: false));
        try
        {
            return new LocalDownload(localPath, full, temp, InlineFileStream.OpenResumable(temp), null, null, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw LocalWriteException.For(localPath, ex);
        }
    }

    /// <summary>
    /// The name of the temp file a download goes to: hidden, random, and named after its destination so a leftover
    /// can be recognized, but cut so that it stays within the 255 bytes a file name may have even when the
    /// destination's own name uses all of them.
    /// </summary>
    internal static string TempFileName(string destinationName, bool random = true)
    {
        const int MaxFileNameBytes = 255;
        const string Suffix = ".filexfer-part";
        // A resumable download's temp name is fixed, so the next try finds it: "resume" stands where the random part goes.
        var tag = random ? Convert.ToHexStringLower(SecureRandom.GetBytes(6)) : "resume";
        int budget = MaxFileNameBytes - ".".Length - ".".Length - tag.Length - Suffix.Length;
        var prefix = new StringBuilder();
        foreach (var rune in destinationName.EnumerateRunes())
        {
            budget -= rune.Utf8SequenceLength;
            if (budget < 0)
            {
                break;
            }

            prefix.Append(rune.ToString());
        }

        return $".{prefix}.{tag}{Suffix}";
    }

    /// <summary>
    /// The space left on the disk that holds <paramref name="localPath"/>, when a body of <paramref name="needed"/> bytes
    /// may not fit in it; null when it fits, is small enough not to ask, or the space cannot be told here.
    /// </summary>
    public static long? ShortOfRoom(string localPath, long needed)
    {
        if (needed <= RoomCheckLimit)
        {
            return null;
        }

        long available;
        try
        {
            // statvfs(2) of the directory the temp file goes in: the file system it is on, however deep.
            available = new DriveInfo(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(localPath)) ?? localPath).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Cannot be told here (not a local drive on Windows, say): the write finds out.
            return null;
        }

        return needed > available ? available : null;
    }

    /// <summary>Hashes the bytes a resumable download holds, leaving the file positioned after them.</summary>
    public async Task HashHeldAsync(ContentHasher hasher, CancellationToken cancellationToken)
    {
        var file = _file!;
        file.Position = 0;
        await BodyCopier.CopyExactlyAsync(file, Stream.Null, file.Length, hasher, progress: null, cancellationToken);
    }

    /// <summary>Drops what a resumable download held: the server sends everything again.</summary>
    public void Restart() => _file?.SetLength(0);

    /// <summary>Keeps a resumable download's temp file when this download is disposed uncommitted: the next try proves and uses it.</summary>
    public void KeepForResume() => _keep = true;

    /// <summary>
    /// Takes the verified transfer: raises the local failure the body met (creating or writing the temp file), then gives
    /// the temp file the sender's time and permission bits plus <paramref name="ownerBits"/>, through its open handle where
    /// the system allows (futimens, fchmod); one it may not have is kept in <see cref="AttributesFailure"/>, not raised.
    /// A file written through a directory handle is closed: the group's syncfs goes through that handle.
    /// </summary>
    /// <exception cref="LocalWriteException">The body could not be written.</exception>
    public async Task FinishAsync(TransferResult result, UnixFileMode ownerBits)
    {
        if ((_openFailure ?? _sink.Failure) is { } failure)
        {
            throw LocalWriteException.For(LocalPath, failure);
        }

        var file = _file!;
        Exception? timeFailure = null;
        Exception? modeFailure = null;
        if (result.ModifiedUtc is { } modified)
        {
            try
            {
                if (OperatingSystem.IsLinux())
                {
                    Posix.SetModifiedTime(file.Handle, modified);
                }
                else
                {
                    System.IO.File.SetLastWriteTimeUtc(Temp, modified.UtcDateTime);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                timeFailure = ex;
            }
        }

        if (result.Mode is { } mode && !OperatingSystem.IsWindows())
        {
            try
            {
                System.IO.File.SetUnixFileMode(file.Handle, (UnixFileMode)(mode & 0x1FF) | ownerBits);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                modeFailure = ex;
            }
        }

        if (LocalAttributes.Describe(timeFailure, modeFailure) is var (what, reason))
        {
            AttributesFailure = new LocalWriteException($"'{LocalPath}' is saved, but its {what} could not be set: {reason}", (timeFailure ?? modeFailure)!);
        }

        Result = result;
        if (Directory is not null)
        {
            await file.DisposeAsync();
            _file = null;
        }
    }

    /// <summary>Closes the temp file as <see cref="LocalCommit"/> takes it over: from here the commit renames or deletes it.</summary>
    internal void CloseForCommit()
    {
        _committed = true;
        _file?.Dispose();
        _file = null;
    }

    /// <summary>Closes the temp file and deletes it (best effort), whether or not a commit took it over.</summary>
    public async ValueTask DiscardAsync()
    {
        if (_file is not null)
        {
            await _file.DisposeAsync();
            _file = null;
        }

        if (_openFailure is null)
        {
            // Only a temp file this download created: one it could not create may be someone else's.
            TryDelete(Temp);
        }
    }

    /// <summary>Closes the temp file; one no commit took over is deleted, unless it was kept for resuming.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_committed || _keep)
        {
            if (_file is not null)
            {
                await _file.DisposeAsync();
                _file = null;
            }

            return;
        }

        await DiscardAsync();
    }

    internal static void TryDelete(string path)
    {
        try
        {
            System.IO.File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left behind; nothing else to do about it here.
        }
    }
}
