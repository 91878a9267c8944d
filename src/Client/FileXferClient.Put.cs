using System.Security.Cryptography;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Client;

/// <summary>Puts: a stream of known length, a local file (resumable when large), a stream read to its end.</summary>
public sealed partial class FileXferClient
{
    /// <summary>
    /// Uploads <paramref name="length"/> bytes of <paramref name="source"/> to <paramref name="remotePath"/>.
    /// The server commits the file only when its hash of the received bytes equals the client's, and the
    /// client checks the hash the server reports of what it stored.
    /// </summary>
    /// <exception cref="SourceChangedException">The source ended before <paramref name="length"/> bytes.</exception>
    public Task<TransferResult> PutAsync(
        Stream source,
        long length,
        string remotePath,
        DateTimeOffset? modifiedUtc,
        int? mode,
        Action<long>? progress,
        CancellationToken cancellationToken) =>
        PutAsync(source, length, remotePath, modifiedUtc, mode, PutFlags.None, parentModified: null, progress, cancellationToken);

    /// <summary>
    /// A put with a fixed-length body; with <see cref="PutFlags.NoWait"/> the body follows the Put at once; with
    /// <paramref name="parentModified"/>, the time its directory is to end with (ParentMTime).
    /// </summary>
    private async Task<TransferResult> PutAsync(
        Stream source,
        long length,
        string remotePath,
        DateTimeOffset? modifiedUtc,
        int? mode,
        PutFlags flags,
        DateTimeOffset? parentModified,
        Action<long>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var remote = RemotePath.Normalize(remotePath);
        var algorithm = _options.HashAlgorithm;
        return await RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.WithParentTime(Messages.WithEncoding(Messages.Put(id, remote, length, algorithm, modifiedUtc, mode, flags), BodyEncoding), parentModified), cancellationToken);
            if (!flags.HasFlag(PutFlags.NoWait))
            {
                var ready = await ReadResponseAsync(id, MessageType.Ready, cancellationToken);
                if (ready.GetSizeOrNull(FieldTag.Offset) is not (null or 0))
                {
                    throw new ProtocolViolationException("server asked to resume a put this client did not offer to resume");
                }
            }

            using var hasher = HashAlgorithms.Create(algorithm);
            var hash = await SendUploadBodyAsync(source, length, hasher, id, progress, plain: false, cancellationToken);

            bool parentTimeNotSet = await ReadStoredHashAsync(id, remote, algorithm, hash, cancellationToken);

            return new TransferResult(remote, length, algorithm, hash, modifiedUtc, mode) { ParentTimeNotSet = parentTimeNotSet };
        }, cancellationToken);
    }

    /// <summary>
    /// A put the server can resume: it keeps what it received of an interrupted upload under a key naming this
    /// source (machine, full path, size, time) and destination (see <see cref="ResumeKeys"/>), and on the next try tells how much it holds and its hash; the
    /// client checks that hash against its own file and sends only the rest, or everything when they differ.
    /// </summary>
    private async Task<TransferResult> PutResumableAsync(LocalSource source, string remotePath, DateTimeOffset? parentModified, Action<long>? progress, CancellationToken cancellationToken)
    {
        var file = source.Stream;
        long length = source.Size;
        var modified = source.Modified;
        var mode = source.Mode;
        var remote = RemotePath.Normalize(remotePath);
        var algorithm = _options.HashAlgorithm;
        var key = ResumeKeys.For(source, remote, algorithm);
        return await RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.WithParentTime(Messages.WithEncoding(Messages.Put(id, remote, length, algorithm, modified, mode, PutFlags.Resume, key), BodyEncoding), parentModified), cancellationToken);
            var ready = await ReadResponseAsync(id, MessageType.Ready, cancellationToken);
            var (start, hasher) = await ProveHeldAsync(ready, file, length, algorithm, progress, cancellationToken);
            using var _ = hasher;
            await _writer.WriteAsync(Messages.ResumeFrom(id, start), cancellationToken);
            var hash = await SendUploadBodyAsync(file, length - start, hasher, id, progress, plain: false, cancellationToken);
            bool parentTimeNotSet = await ReadStoredHashAsync(id, remote, algorithm, hash, cancellationToken);
            return new TransferResult(remote, length, algorithm, hash, modified, mode) { ResumedFrom = start, ParentTimeNotSet = parentTimeNotSet };
        }, cancellationToken);
    }

    /// <summary>
    /// Checks the prefix a resumable put's Ready says the server holds (at most <paramref name="length"/> bytes) against
    /// the same bytes of <paramref name="source"/>: where they hash alike the body continues after them, else from 0.
    /// Returns where to continue, with the hasher holding the bytes before it, and leaves the source there.
    /// </summary>
    private static async Task<(long Start, ContentHasher Hasher)> ProveHeldAsync(Frame ready, Stream source, long length, string algorithm, Action<long>? progress, CancellationToken cancellationToken)
    {
        long held = ready.GetSizeOrNull(FieldTag.Offset) ?? 0;
        var hasher = HashAlgorithms.Create(algorithm);
        long start = 0;
        if (held > 0 && held <= length && ready.GetBytesOrNull(FieldTag.HashValue) is { } proof)
        {
            source.Position = 0;
            await BodyCopier.CopyExactlyAsync(source, Stream.Null, held, hasher, progress: null, cancellationToken);
            if (CryptographicOperations.FixedTimeEquals(hasher.GetCurrentHash(), proof))
            {
                start = held;
                progress?.Invoke(held);
            }
            else
            {
                hasher.Dispose();
                hasher = HashAlgorithms.Create(algorithm);
            }
        }

        source.Position = start;
        return (start, hasher);
    }

    /// <summary>
    /// Sends an upload's fixed-length body and its BodyEnd. A source that shrinks, or a local read that fails,
    /// leaves the body unfinishable: the connection is given up, which makes the server drop what it received.
    /// </summary>
    private async Task<byte[]> SendUploadBodyAsync(Stream source, long length, ContentHasher hasher, uint id, Action<long>? progress, bool plain, CancellationToken cancellationToken)
    {
        try
        {
            return BodyEncoding == BodyEncoding.ZstdBlocks && !plain
                ? await _writer.WriteCompressedBodyAsync(source, length, hasher, id, progress, cancellationToken)
                : await _writer.WriteBodyAsync(source, length, hasher, id, progress, cancellationToken);
        }
        catch (EndOfStreamException ex)
        {
            _broken = true;
            throw new SourceChangedException($"the source shrank while it was being sent ({ex.Message})", ex);
        }
        catch (ConnectionLostException ex)
        {
            throw await ExplainLostUploadAsync(ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _broken = true;
            throw;
        }
    }

    /// <summary>
    /// How this connection's bodies go: compressed when the options ask for it and the server announced
    /// <see cref="Capabilities.Compression"/>, else plain (a server without it is simply not asked).
    /// </summary>
    private BodyEncoding BodyEncoding =>
        _options.Compress && Capabilities.HasFlag(Capabilities.Compression) ? BodyEncoding.ZstdBlocks : BodyEncoding.Plain;

    /// <summary>True when this connection's bodies go compressed (<see cref="FileXferClientOptions.Compress"/>, and the server can).</summary>
    public bool Compresses => BodyEncoding == BodyEncoding.ZstdBlocks;

    /// <summary>A chunked body in this connection's <see cref="BodyEncoding"/>.</summary>
    private Task<ChunkedBodyWriteResult> WriteChunkedBodyAsync(Stream source, long? exactLength, ContentHasher hasher, uint id, Action<long>? progress, CancellationToken cancellationToken) =>
        BodyEncoding == BodyEncoding.ZstdBlocks
            ? _writer.WriteCompressedChunkedBodyAsync(source, exactLength, hasher, id, progress, cancellationToken)
            : _writer.WriteChunkedBodyAsync(source, exactLength, hasher, id, progress, cancellationToken);

    /// <summary>
    /// Reads the answer to an upload and checks the hash the server reports of what it stored; true when the Ok says the
    /// directory could not be given the Put's ParentMTime (<see cref="FieldTag.ParentTimeNotSet"/>).
    /// </summary>
    private async Task<bool> ReadStoredHashAsync(uint id, string remote, string algorithm, byte[] sent, CancellationToken cancellationToken)
    {
        var ok = await ReadResponseAsync(id, MessageType.Ok, cancellationToken);
        return StoredHashMismatch(ok, remote, algorithm, sent) is { } mismatch ? throw mismatch : Messages.ReadParentTimeNotSet(ok);
    }

    /// <summary>
    /// Null when an upload's Ok reports the hash the client sent, under the algorithm it asked for; otherwise the
    /// integrity error. The right bytes under another algorithm's name prove nothing about what was stored.
    /// </summary>
    private static FileXferException? StoredHashMismatch(Frame ok, string remote, string algorithm, byte[]? sent) =>
        ok.GetString(FieldTag.HashAlgorithm) == algorithm && CryptographicOperations.FixedTimeEquals(ok.GetBytes(FieldTag.HashValue), sent ?? [])
            ? null
            : new FileXferException(ErrorCode.IntegrityMismatch, $"the server reports a different hash of '{RemotePath.Escape(remote)}' than the client sent");

    /// <summary>
    /// The largest file <see cref="UploadFileAsync(string, string, Action{long}?, CancellationToken)"/> sends without waiting for Ready (a NoWait Put) instead of as
    /// a resumable put: sending it again costs less than the round trip that resuming needs on every put.
    /// </summary>
    public const long UnresumedPutLimit = 64 * 1024;

    /// <summary>
    /// Uploads a local file; its size is taken from the open file, its time and mode are kept. A file of up to
    /// <see cref="UnresumedPutLimit"/> bytes follows its Put at once when the server pipelines; a larger one is
    /// resumable when the server can resume. A file whose size cannot be believed and a FIFO (see
    /// <see cref="LocalSource.IsOpenEnded"/>) are sent in chunks to their real end; a device or a socket is refused.
    /// </summary>
    /// <exception cref="FileXferException">With <see cref="ErrorCode.BadRequest"/>: the path is a device or a socket.</exception>
    public Task<TransferResult> UploadFileAsync(string localPath, string remotePath, Action<long>? progress, CancellationToken cancellationToken) =>
        UploadFileAsync(new TransferItem(localPath, remotePath), progress, cancellationToken);

    /// <summary>
    /// Uploads <paramref name="item"/>'s local file as <see cref="UploadFileAsync(string, string, Action{long}?, CancellationToken)"/>
    /// does; with its <see cref="TransferItem.ParentModified"/>, to a server with <see cref="Capabilities.DirectoryTimes"/>,
    /// the remote directory is left at that time once the file is in it.
    /// </summary>
    /// <exception cref="FileXferException">With <see cref="ErrorCode.BadRequest"/>: the path is a device or a socket.</exception>
    public async Task<TransferResult> UploadFileAsync(TransferItem item, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        var (localPath, remotePath) = (item.LocalPath, item.RemotePath);
        var parentModified = Capabilities.HasFlag(Capabilities.DirectoryTimes) ? item.ParentModified : null;
        await using var source = await LocalSource.OpenAsync(localPath, cancellationToken);
        long length = source.Size;
        TransferResult result;
        if (source.IsOpenEnded)
        {
            // A fixed-length body would store nothing, or the wrong length: streamed as standard input is.
            result = await PutStreamAsync(source.Stream, $"'{localPath}'", remotePath, source.Modified, source.Mode, parentModified, progress, cancellationToken);
        }
        else
        {
            result = length <= UnresumedPutLimit && Capabilities.HasFlag(Capabilities.Pipelining)
                ? await PutAsync(source.Stream, length, remotePath, source.Modified, source.Mode, PutFlags.NoWait, parentModified, progress, cancellationToken)
                : Capabilities.HasFlag(Capabilities.Resume)
                    ? await PutResumableAsync(source, remotePath, parentModified, progress, cancellationToken)
                    : await PutAsync(source.Stream, length, remotePath, source.Modified, source.Mode, PutFlags.None, parentModified, progress, cancellationToken);
        }

        return source.HasChanged()
            ? throw new SourceChangedException($"'{localPath}' changed while it was being sent; the stored copy may not match it")
            : result;
    }

    /// <summary>
    /// Uploads a stream of unknown length (standard input) as a chunked body, read to its end. The server commits it
    /// only when the hash of what it received equals the client's.
    /// </summary>
    public Task<TransferResult> PutStreamAsync(Stream source, string remotePath, Action<long>? progress, CancellationToken cancellationToken) =>
        PutStreamAsync(source, "standard input", remotePath, DateTimeOffset.UtcNow, mode: null, parentModified: null, progress, cancellationToken);

    /// <summary>
    /// Uploads <paramref name="source"/> to its end as a chunked body; <paramref name="sourceName"/> names it in messages;
    /// with <paramref name="parentModified"/>, the time its directory is to end with (ParentMTime).
    /// </summary>
    private async Task<TransferResult> PutStreamAsync(Stream source, string sourceName, string remotePath, DateTimeOffset modified, int? mode, DateTimeOffset? parentModified, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var remote = RemotePath.Normalize(remotePath);
        var algorithm = _options.HashAlgorithm;
        RequireCapability(Capabilities.ChunkedBody);
        return await RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.WithParentTime(Messages.WithEncoding(Messages.Put(id, remote, null, algorithm, modified, mode, PutFlags.Chunked), BodyEncoding), parentModified), cancellationToken);
            await ReadResponseAsync(id, MessageType.Ready, cancellationToken);
            using var hasher = HashAlgorithms.Create(algorithm);
            ChunkedBodyWriteResult body;
            try
            {
                body = await WriteChunkedBodyAsync(source, null, hasher, id, progress, cancellationToken);
            }
            catch (ConnectionLostException ex)
            {
                throw await ExplainLostUploadAsync(ex);
            }

            if (body.AbortReason is { } reason)
            {
                // The server answers the abandoned body with TransferAborted; read it to stay in step.
                await ReadAbortAnswerAsync(id, cancellationToken);
                throw new SourceChangedException($"{sourceName} could not be read to its end: {reason}; nothing was stored");
            }

            bool parentTimeNotSet = await ReadStoredHashAsync(id, remote, algorithm, body.Hash!, cancellationToken);
            return new TransferResult(remote, body.Length, algorithm, body.Hash!, null, null) { ParentTimeNotSet = parentTimeNotSet };
        }, cancellationToken);
    }

    /// <summary>
    /// The connection broke while a body was being sent. The server may have said why before it closed (the file
    /// is too large, the disk is full): that error is more useful than "connection lost".
    /// </summary>
    private async Task<Exception> ExplainLostUploadAsync(ConnectionLostException lost)
    {
        _broken = true;
        try
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            if (_pendingOk is not null)
            {
                // A body sent behind Authenticate: the server's answer to it comes first, and may say why.
                await ReadPendingOkAsync(wait.Token);
            }

            if (await _reader.ReadFrameAsync(wait.Token) is { Type: MessageType.Error } error)
            {
                return Messages.ToException(error);
            }
        }
        catch (FileXferException ex) when (ex.Code == ErrorCode.AuthenticationFailed)
        {
            return ex;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or FileXferException)
        {
            // Nothing more to learn from a dead connection.
        }

        return lost;
    }

    private async Task ReadAbortAnswerAsync(uint id, CancellationToken cancellationToken)
    {
        try
        {
            await ReadResponseAsync(id, MessageType.Ok, cancellationToken);
        }
        catch (FileXferException ex) when (ex.Code == ErrorCode.TransferAborted)
        {
            // The expected answer to an abandoned body.
        }
    }
}
