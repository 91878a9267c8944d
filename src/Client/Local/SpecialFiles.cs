using FileXfer.Platform;

namespace FileXfer.Client.Local;

/// <summary>
/// Local paths that are not regular files. .NET sees FIFOs, devices and sockets as files, but none of them may be
/// handled like one: a temp file renamed over <c>/dev/null</c> replaces the device with a regular file, a FIFO blocks
/// its opener until its other end is opened and has no size until read, and <c>/dev/zero</c> never ends. So a get writes
/// into a FIFO or a character device in place (as <c>cp</c> and <c>curl -o</c> do), a put streams a FIFO to its end
/// (as standard input), and the other kinds are refused. Told apart on Linux only; elsewhere every path is
/// <see cref="LocalFileKind.Other"/>.
/// </summary>
internal static class SpecialFiles
{
    /// <summary>What <paramref name="path"/> is, following symbolic links (<c>/dev/stdout</c> is one).</summary>
    public static LocalFileKind KindOf(string path) =>
        OperatingSystem.IsLinux() && Posix.TryStat(path, followLinks: true, out FileStatus status, out _) ? KindOf(status) : LocalFileKind.Other;

    /// <summary>
    /// What <paramref name="path"/> is, refusing the kinds a transfer cannot use: devices other than character devices to
    /// write into, any device to read from (it may never end), and sockets.
    /// </summary>
    /// <param name="path">The local path.</param>
    /// <param name="access"><see cref="FileAccess.Write"/> for a get's destination, <see cref="FileAccess.Read"/> for a put's source.</param>
    /// <exception cref="FileXferException">With <see cref="ErrorCode.BadRequest"/>: a kind that cannot be used this way.</exception>
    public static LocalFileKind Check(string path, FileAccess access)
    {
        var kind = KindOf(path);
        return (kind, access) switch
        {
            (LocalFileKind.Socket, _) => throw Refused($"'{path}' is a socket; filexfer reads and writes files, FIFOs and character devices"),
            (LocalFileKind.BlockDevice, FileAccess.Write) => throw Refused($"'{path}' is a block device; filexfer does not write disks (to mean it, use: filexfer get REMOTE - > '{path}')"),
            (LocalFileKind.CharacterDevice or LocalFileKind.BlockDevice, FileAccess.Read) => throw Refused($"'{path}' is a device, whose end cannot be known; to send what it gives, pipe it: head -c SIZE '{path}' | filexfer put - REMOTE"),
            _ => kind,
        };
    }

    /// <summary>
    /// Opens an existing FIFO or character device in place: never created, truncated or replaced. Opening a FIFO waits
    /// until its other end is opened; that wait runs on a pool thread, so <paramref name="cancellationToken"/> can end it.
    /// </summary>
    /// <exception cref="IOException">The path is no longer <paramref name="expected"/> (it was replaced since it was examined), or cannot be opened.</exception>
    public static async Task<FileStream> OpenAsync(string path, LocalFileKind expected, FileAccess access, CancellationToken cancellationToken)
    {
        var opening = Task.Run(() => Open(path, expected, access), CancellationToken.None);
        try
        {
            return await opening.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The open still waits for the other end; whenever it gets one, the file is closed at once.
            _ = opening.ContinueWith(static open => open.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
    }

    private static FileStream Open(string path, LocalFileKind expected, FileAccess access)
    {
        // FileMode.Open: O_RDONLY or O_WRONLY alone, no O_CREAT, no O_TRUNC.
        var file = new FileStream(path, FileMode.Open, access, FileShare.ReadWrite, bufferSize: 0);
        if (OperatingSystem.IsLinux() && !(Posix.TryStat(file.SafeFileHandle, out var status, out _) && KindOf(status) == expected))
        {
            file.Dispose();
            throw new IOException($"'{path}' was replaced while it was opened");
        }

        return file;
    }

    private static LocalFileKind KindOf(FileStatus status) =>
        status.IsFifo ? LocalFileKind.Fifo
            : status.IsCharacterDevice ? LocalFileKind.CharacterDevice
            : status.IsBlockDevice ? LocalFileKind.BlockDevice
            : status.IsSocket ? LocalFileKind.Socket
            : LocalFileKind.Other;

    private static FileXferException Refused(string message) => new(ErrorCode.BadRequest, message);
}
