using System.Security.Cryptography;

namespace FileXfer.Client;

/// <summary>Gets: into a stream, or into a local file through a temp file committed once verified (resumable when the server can resume).</summary>
public sealed partial class FileXferClient
{
    /// <summary>Downloads a file into <paramref name="destination"/>, verifying the sender's hash.</summary>
    /// <exception cref="FileXferException">With <see cref="ErrorCode.IntegrityMismatch"/> when the bytes do not match.</exception>
    /// <exception cref="IOException">Writing to <paramref name="destination"/> failed (after the body was read to its end).</exception>
    public Task<TransferResult> GetAsync(string remotePath, Stream destination, Action<long>? progress, CancellationToken cancellationToken) =>
        GetAsync(remotePath, destination, "standard output", progress, cancellationToken);

    /// <summary>
    /// Streams a remote file into <paramref name="destination"/>, called <paramref name="shownName"/> in messages. Bytes
    /// written there cannot be taken back: a hash mismatch is found after them, and its message says so.
    /// </summary>
    private async Task<TransferResult> GetAsync(string remotePath, Stream destination, string shownName, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var remote = RemotePath.Normalize(remotePath);
        return await RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.WithEncoding(Messages.Get(id, remote, _options.HashAlgorithm), BodyEncoding), cancellationToken);
            var sink = new Protocol.Transfer.LatchingWriteStream(destination);
            TransferResult result;
            try
            {
                result = await ReceiveBodyAsync(id, remote, sink, localPath: null, progress, cancellationToken);
            }
            catch (FileXferException ex) when (ex.Code == ErrorCode.IntegrityMismatch && sink.Failure is null)
            {
                throw new FileXferException(ErrorCode.IntegrityMismatch, $"{ex.Message}; they were already written to '{shownName}' and cannot be taken back", ex);
            }

            return sink.Failure is { } failure ? throw LocalWriteException.For(shownName, failure) : result;
        }, cancellationToken);
    }

    /// <summary>
    /// Downloads a file to <paramref name="localPath"/> through a temp file beside it, renamed over it only after
    /// the hash matched. A failure leaves an existing file untouched and no temp file behind. A FIFO or a character
    /// device at <paramref name="localPath"/> is written into instead, in place; a block device or a socket is refused.
    /// </summary>
    /// <exception cref="FileXferException">
    /// With <see cref="ErrorCode.InsufficientStorage"/>: the file is larger than the space left on the local disk (nothing
    /// is written, and the connection is given up); with <see cref="ErrorCode.BadRequest"/>: a block device or a socket.
    /// </exception>
    public async Task<TransferResult> DownloadFileAsync(string remotePath, string localPath, Action<long>? progress, CancellationToken cancellationToken)
    {
        var remote = RemotePath.Normalize(remotePath);
        if (SpecialFiles.Check(localPath, FileAccess.Write) is (LocalFileKind.Fifo or LocalFileKind.CharacterDevice) and var kind)
        {
            // Written into, as cp and curl -o do: a temp file renamed over /dev/null would replace the device with a file.
            await using var device = await SpecialFiles.OpenAsync(localPath, kind, FileAccess.Write, cancellationToken);
            return await GetAsync(remote, device, localPath, progress, cancellationToken);
        }

        if (Capabilities.HasFlag(Capabilities.Resume))
        {
            return await RunAsync(id => DownloadResumableAsync(id, remote, localPath, progress, cancellationToken), cancellationToken);
        }

        return await RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.WithEncoding(Messages.Get(id, remote, _options.HashAlgorithm), BodyEncoding), cancellationToken);
            return await ReceiveFileAsync(id, remote, localPath, progress, cancellationToken);
        }, cancellationToken);
    }

    /// <summary>
    /// A get that keeps its partial download beside the destination under a fixed temp name when the connection
    /// breaks, and on the next try offers the bytes it holds (with their hash) so the server sends only the rest.
    /// The whole-file hash is still checked before the rename; a mismatch removes the partial.
    /// </summary>
    private async Task<TransferResult> DownloadResumableAsync(uint id, string remote, string localPath, Action<long>? progress, CancellationToken cancellationToken)
    {
        var algorithm = _options.HashAlgorithm;
        await using var download = LocalDownload.OpenResumable(localPath);
        try
        {
            long held = download.Held;
            var hasher = HashAlgorithms.Create(algorithm);
            if (held > 0)
            {
                await download.HashHeldAsync(hasher, cancellationToken);
                await _writer.WriteAsync(Messages.WithEncoding(Messages.Get(id, remote, algorithm, held, hasher.GetCurrentHash()), BodyEncoding), cancellationToken);
            }
            else
            {
                await _writer.WriteAsync(Messages.WithEncoding(Messages.Get(id, remote, algorithm), BodyEncoding), cancellationToken);
            }

            var result = await ReceiveBodyAsync(id, remote, download.Sink, localPath, progress, cancellationToken, new ResumePoint(held, hasher, download.Restart));
            await download.FinishAsync(result, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            LocalCommit.Commit(download);
            return result;
        }
        catch (Exception ex) when (ex is ConnectionLostException or OperationCanceledException or TimeoutException)
        {
            // What arrived is kept for the next try, which proves it before using it.
            download.KeepForResume();
            throw;
        }
    }

    /// <summary>
    /// Reads the answer to a Get into a temp file beside <paramref name="localPath"/> and renames it into place once
    /// verified and durable. Local failures are raised as <see cref="LocalWriteException"/> after the body was read,
    /// so the connection stays in step.
    /// </summary>
    private async Task<TransferResult> ReceiveFileAsync(uint id, string remote, string localPath, Action<long>? progress, CancellationToken cancellationToken)
    {
        await using var download = await ReceiveToTempAsync(id, remote, localPath, progress, cancellationToken);
        LocalCommit.Commit(download);
        return download.Result;
    }

    /// <summary>
    /// Reads the answer to a Get into a new temp file beside <paramref name="localPath"/>, checks its hash and gives
    /// it the sender's time and mode. The file is neither durable nor under its name yet: see <see cref="LocalCommit"/>.
    /// On failure no temp file is left.
    /// </summary>
    private async Task<LocalDownload> ReceiveToTempAsync(uint id, string remote, string localPath, Action<long>? progress, CancellationToken cancellationToken, LocalDirectories? directories = null)
    {
        var download = LocalDownload.Create(localPath, directories);
        bool finished = false;
        try
        {
            var result = await ReceiveBodyAsync(id, remote, download.Sink, localPath, progress, cancellationToken);
            await download.FinishAsync(result, UnixFileMode.None);
            finished = true;
            return download;
        }
        finally
        {
            if (!finished)
            {
                await download.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Reads a Data answer, its body into <paramref name="destination"/> and the BodyEnd, and checks the hash. With
    /// <paramref name="localPath"/>, the file the body goes beside, a body larger than the space left on its disk is
    /// refused before a byte of it is written (see <see cref="RequireLocalRoom"/>).
    /// </summary>
    private async Task<TransferResult> ReceiveBodyAsync(uint id, string remote, Stream destination, string? localPath, Action<long>? progress, CancellationToken cancellationToken, ResumePoint? resume = null)
    {
        var algorithm = _options.HashAlgorithm;
        var data = await ReadResponseAsync(id, MessageType.Data, cancellationToken);
        long size = data.GetSize(FieldTag.Size);
        if (data.GetString(FieldTag.HashAlgorithm) != algorithm)
        {
            throw new ProtocolViolationException("server answered with another hash algorithm than asked for");
        }

        long start = data.GetSizeOrNull(FieldTag.Offset) ?? 0;
        ContentHasher hasher;
        if (start == 0)
        {
            // The server did not accept the held prefix (or none was offered): everything comes again.
            resume?.Restart();
            resume?.Hasher.Dispose();
            hasher = HashAlgorithms.Create(algorithm);
        }
        else if (resume is not null && start == resume.Held && start <= size)
        {
            hasher = resume.Hasher;
            progress?.Invoke(start);
        }
        else
        {
            throw new ProtocolViolationException($"server resumed at {start}, which this client did not offer");
        }

        using var _ = hasher;
        if (localPath is not null)
        {
            RequireLocalRoom(localPath, size - start);
        }

        // The server says how the body comes; it may send plain what was asked for compressed, never the reverse.
        switch (Messages.ReadEncoding(data))
        {
            case BodyEncoding.ZstdBlocks when BodyEncoding == BodyEncoding.ZstdBlocks:
                await _reader.CopyCompressedBodyToAsync(destination, size - start, hasher, progress, cancellationToken);
                break;
            case BodyEncoding.Plain:
                await _reader.CopyBodyToAsync(destination, size - start, hasher, progress, cancellationToken);
                break;
            default:
                throw new ProtocolViolationException("server sent a compressed body this client did not ask for");
        }

        var end = await ReadResponseAsync(id, MessageType.BodyEnd, cancellationToken);
        var received = hasher.GetHashAndReset();
        if (end.GetString(FieldTag.HashAlgorithm) != algorithm || !CryptographicOperations.FixedTimeEquals(received, end.GetBytes(FieldTag.HashValue)))
        {
            throw new FileXferException(ErrorCode.IntegrityMismatch, $"the bytes received for '{RemotePath.Escape(remote)}' do not match the server's hash");
        }

        return new TransferResult(remote, size, algorithm, received, Messages.ReadModified(data), Messages.ReadMode(data)) { ResumedFrom = start };
    }

    /// <summary>
    /// Refuses a body that cannot fit in the space left on the disk that holds <paramref name="localPath"/>, before a byte of
    /// it is written: a hostile or mistaken server could otherwise declare 2^61 bytes and fill the disk. The body is then
    /// left unread, so the connection is given up.
    /// </summary>
    /// <exception cref="FileXferException">With <see cref="ErrorCode.InsufficientStorage"/>.</exception>
    private void RequireLocalRoom(string localPath, long needed)
    {
        if (LocalDownload.ShortOfRoom(localPath, needed) is { } available)
        {
            _broken = true;
            throw new FileXferException(ErrorCode.InsufficientStorage, $"not enough space on the local disk for '{localPath}': {needed} bytes needed, {available} available; nothing was written");
        }
    }

    /// <summary>What a resuming get holds: its first bytes, hashed, and how to drop them if the server disagrees.</summary>
    private sealed record ResumePoint(long Held, ContentHasher Hasher, Action Restart);
}
