using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Paths;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Server.Storage;

/// <summary>
/// One upload in progress: a temp file in the staging area that becomes the real file only through
/// <see cref="CommitAsync"/>. Disposing an upload that was not committed deletes its temp file, so a failed
/// or aborted put leaves the old file as it was.
/// </summary>
public sealed class PendingUpload : IAsyncDisposable
{
    private readonly FileStore _store;
    private readonly InlineFileStream _file;
    private readonly LatchingWriteStream _sink;
    private bool _committed;

    internal PendingUpload(FileStore store, string path, string destination, string tempPath, InlineFileStream file, long? expectedSize)
    {
        _store = store;
        Path = path;
        Destination = destination;
        TempPath = tempPath;
        _file = file;
        _sink = new LatchingWriteStream(file);
        ExpectedSize = expectedSize;
    }

    /// <summary>The normalized remote path.</summary>
    public string Path { get; }

    /// <summary>The local path the file will have once committed.</summary>
    public string Destination { get; }

    /// <summary>The temp file in the staging area.</summary>
    public string TempPath { get; }

    /// <summary>The declared size; null for a chunked body of unknown length.</summary>
    public long? ExpectedSize { get; }

    /// <summary>
    /// Where the body is written. A write failure (a full disk) is remembered and the rest of the body is
    /// dropped, so the connection stays in step; <see cref="CommitAsync"/> then reports the failure.
    /// </summary>
    public Stream Body => _sink;

    /// <summary>
    /// Flushes the temp file to disk, checks its size and the sender's hash against the receiver's, then renames
    /// it over the destination and syncs the directory.
    /// </summary>
    public async Task CommitAsync(long receivedLength, byte[] receivedHash, byte[] senderHash, DateTimeOffset? modified, int? mode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(receivedHash);
        ArgumentNullException.ThrowIfNull(senderHash);
        if (_sink.Failure is { } failure)
        {
            throw failure is IOException io && DiskFull.Is(io)
                ? new FileXferException(ErrorCode.InsufficientStorage, "no space left on the server's storage", failure)
                : new FileXferException(ErrorCode.Internal, $"writing the upload failed: {failure.Message}", failure);
        }

        if (ExpectedSize is { } declared && receivedLength != declared)
        {
            throw new FileXferException(ErrorCode.SizeMismatch, $"received {receivedLength} bytes, {declared} declared");
        }

        if (!CryptographicOperations.FixedTimeEquals(receivedHash, senderHash))
        {
            throw new FileXferException(ErrorCode.IntegrityMismatch, $"hash of the received bytes does not match the sender's for '{RemotePath.Escape(Path)}'");
        }

        await FileStore.WrapAsync(Path, async () =>
        {
            // Durability before the rename: the rename must never publish data that is not on disk yet.
            _file.FlushToDisk();
            if (_file.Length != receivedLength)
            {
                throw new FileXferException(ErrorCode.SizeMismatch, $"stored {_file.Length} bytes, {receivedLength} received");
            }

            await _file.DisposeAsync();
            if (modified is { } time)
            {
                File.SetLastWriteTimeUtc(TempPath, time.UtcDateTime);
            }

            if (!OperatingSystem.IsWindows())
            {
                // Only permission bits; the owner keeps read and write so the server can serve and replace it.
                // Without a mode (a stream from standard input), the usual rw-r--r--.
                const int DefaultMode = 0x1A4; // 0644
                File.SetUnixFileMode(TempPath, (UnixFileMode)((mode ?? DefaultMode) & 0x1FF) | UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            // Checked again: the tree may have changed while the body was arriving.
            var resolved = _store.ResolveWithState(Path);
            var destination = resolved.FullPath;
            if (resolved.IsDirectory)
            {
                throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(Path)}' is a directory");
            }

            File.Move(TempPath, destination, overwrite: true);
            _committed = true;
            NativeMethods.FsyncDirectory(System.IO.Path.GetDirectoryName(destination)!);
        });
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _file.DisposeAsync();
        if (!_committed)
        {
            try
            {
                File.Delete(TempPath);
            }
            catch (IOException)
            {
                // Left for the stale-upload sweep at the next start; the real name was never touched.
            }
        }
    }
}
