using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage;

namespace FileXfer.Server.Handlers;

/// <summary>Puts: the upload, the resume exchange, and the durable group commit that answers them in request order.</summary>
public sealed partial class FileXferRequestHandler
{
    private async Task<long> PutAsync(Frame request, long started, CancellationToken cancellationToken)
    {
        var flags = (PutFlags)(request.GetUInt64OrNull(FieldTag.Flags) ?? 0);
        if (flags.HasFlag(PutFlags.Range))
        {
            return await RangePutAsync(request, flags, started, cancellationToken);
        }

        if ((flags & ~(PutFlags.Chunked | PutFlags.NoWait | PutFlags.Resume)) != 0)
        {
            // A body may follow whose framing this version cannot know: the connection cannot go on.
            throw new ProtocolViolationException($"Put has unknown flags 0x{(ulong)flags:x}");
        }

        bool compressed = RequireEncoding(request) == BodyEncoding.ZstdBlocks;
        bool chunked = flags.HasFlag(PutFlags.Chunked);
        bool noWait = flags.HasFlag(PutFlags.NoWait);
        bool resume = flags.HasFlag(PutFlags.Resume);
        long? size = request.GetSizeOrNull(FieldTag.Size);
        if (size is null && !chunked)
        {
            throw new ProtocolViolationException("a Put with a fixed-length body needs its Size");
        }

        if (resume && (chunked || noWait))
        {
            throw new ProtocolViolationException("a resumable Put has a fixed-length body sent after Ready");
        }

        IUpload upload;
        ContentHasher hasher;
        try
        {
            RequireWrite("put");
            var algorithm = RequireAlgorithm(request);
            var resumeKey = resume ? request.GetBytesOrNull(FieldTag.ResumeKey) : null;
            if (resumeKey is not null)
            {
                // A retry whose first connection is not known to be gone yet (it stalled, or vanished without closing)
                // takes that connection's partial over: the old upload is abandoned at once, and this one resumes it.
                await Store.TakeOverResumeKeyAsync(resumeKey, request.GetString(FieldTag.Path), ResumeKeyWait, Connection.TimeProvider, cancellationToken);
            }

            upload = await Store.BeginUploadAsync(new UploadStart(request.GetString(FieldTag.Path), size, size ?? 0, resumeKey, BodyFollows: noWait), cancellationToken);
            hasher = HashAlgorithms.Create(algorithm);
        }
        catch (FileXferException) when (noWait)
        {
            // The body is already on its way: read past it so the next request can be served, then refuse.
            await DiscardBodyAsync(request.RequestId, chunked, compressed, size ?? 0, cancellationToken);
            throw;
        }

        bool queued = false;

        // A resumable upload is abandoned when a newer connection takes its partial over (IStoreSession.TakeOverResumeKeyAsync).
        using var revocable = upload.Revoked.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, upload.Revoked) : null;
        var receiving = revocable?.Token ?? cancellationToken;
        try
        {
            var modified = Messages.ReadModified(request);
            var mode = Messages.ReadMode(request);
            long start = 0;
            if (resume && upload.IsResumable)
            {
                (start, hasher) = await OfferResumeAsync(request, upload, hasher, size!.Value, receiving);
            }
            else if (!noWait)
            {
                await Writer.WriteAsync(Messages.Ready(request.RequestId, 0), receiving);
                if (resume)
                {
                    // No partial could be kept for this upload (its key is busy): the client still says where to start.
                    await ReadResumeFromAsync(request.RequestId, 0, receiving);
                }
            }

            _inBody = true;
            long received;
            if (chunked)
            {
                var body = compressed
                    ? await Reader.CopyCompressedChunkedBodyToAsync(upload.Body, size ?? Store.MaxFileSize, hasher, progress: null, receiving)
                    : await Reader.CopyChunkedBodyToAsync(upload.Body, size ?? Store.MaxFileSize, hasher, progress: null, receiving);
                if (body.Aborted)
                {
                    _inBody = false;
                    throw new FileXferException(ErrorCode.TransferAborted, $"the client abandoned the upload of '{RemotePath.Escape(upload.Path)}' after {body.Length} bytes; nothing was stored");
                }

                received = body.Length;
            }
            else
            {
                if (compressed)
                {
                    await Reader.CopyCompressedBodyToAsync(upload.Body, size!.Value - start, hasher, progress: null, receiving);
                }
                else
                {
                    await Reader.CopyBodyToAsync(upload.Body, size!.Value - start, hasher, progress: null, receiving);
                }

                received = size.Value;
            }

            var senderHash = await ReadBodyEndAsync(request.RequestId, hasher.Name, receiving);
            _inBody = false;
            var receivedHash = hasher.GetHashAndReset();
            upload.Seal(received, receivedHash, senderHash, modified, mode, hasher.Name, Messages.ReadParentModified(request));
            _pendingCommits.Add(new PendingCommit(upload, request.RequestId, started, hasher.Name, receivedHash));
            queued = true;
            if (_pendingCommits.Count >= MaxGroupCommit)
            {
                await CommitPendingAsync(cancellationToken);
            }

            return received;
        }
        catch (OperationCanceledException ex) when (upload.Revoked.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Its partial is kept as it is, for the newer connection; this one is presumed dead and closes.
            throw new ConnectionLostException($"the upload of '{RemotePath.Escape(upload.Path)}' was taken over by a newer connection resuming it", ex);
        }
        finally
        {
            hasher.Dispose();
            if (!queued)
            {
                await upload.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Durable group commit: the sealed uploads are flushed to disk together, renamed into place, their
    /// directories synced once, and only then answered. Runs before any answer is sent and before any other
    /// request is served, so no client hears "ok" for a file that is not durably stored under its name.
    /// </summary>
    private async Task CommitPendingAsync(CancellationToken cancellationToken)
    {
        if (_pendingCommits.Count == 0)
        {
            return;
        }

        var group = _pendingCommits.ToArray();
        _pendingCommits.Clear();
        long committing = Connection.TimeProvider.GetTimestamp();
        var results = await Store.CommitAsync([.. group.Select(c => c.Upload)], cancellationToken);
        options.Metrics?.GroupCommitted(group.Length, Connection.TimeProvider.GetElapsedTime(committing));
        for (int i = 0; i < group.Length; i++)
        {
            var (upload, requestId, started, algorithm, hash) = group[i];
            var path = RemotePath.Escape(upload.Path);
            if (results[i] is { } failure)
            {
                ServerLog.RequestFailed(logger, Connection.Id, requestId, nameof(MessageType.Put), path, failure.Code.ToString(), upload.Size, Elapsed(started), failure.Message);
                options.Metrics?.RequestCompleted(nameof(MessageType.Put), failure.Code.ToString(), upload.Size, Connection.TimeProvider.GetElapsedTime(started));
                await Writer.WriteAsync(Messages.Error(requestId, failure.Code, failure.Message), cancellationToken);
            }
            else
            {
                ServerLog.RequestCompleted(logger, Connection.Id, requestId, nameof(MessageType.Put), path, upload.Size, Elapsed(started));
                options.Metrics?.RequestCompleted(nameof(MessageType.Put), "ok", upload.Size, Connection.TimeProvider.GetElapsedTime(started));
                // The upload is stored; its directory's time may not be what the Put's ParentMTime asked (the Ok says so).
                var notSet = upload.ParentTimeFailure;
                ReportParentTime(requestId, nameof(MessageType.Put), upload.Path, notSet);
                await Writer.WriteAsync(Messages.WithParentTimeNotSet(Messages.HashOk(requestId, upload.Path, upload.Size, algorithm, hash), notSet is not null), cancellationToken);
            }
        }
    }

    private async Task CommitAndFlushAsync(CancellationToken cancellationToken)
    {
        await CommitPendingAsync(cancellationToken);
        await Writer.FlushAsync(cancellationToken);
        _unflushedAnswers = 0;
    }

    /// <summary>
    /// The reader needs more bytes. When the client has sent none yet, it may be waiting for answers: commit and
    /// answer now. When bytes are already on their way, keep gathering (a larger group is a cheaper commit).
    /// </summary>
    private Task BeforeBlockingReadAsync(CancellationToken cancellationToken) =>
        Connection.Socket.Available > 0 && _unflushedAnswers < MaxUnflushedAnswers
            ? Task.CompletedTask
            : CommitAndFlushAsync(cancellationToken);

    /// <summary>
    /// Tells a resuming client how many bytes of its upload are held and their hash, then reads where the client
    /// chose to start: after the held bytes when it proved them equal to its own, else at 0.
    /// </summary>
    private async Task<(long Start, ContentHasher Hasher)> OfferResumeAsync(Frame request, IUpload upload, ContentHasher hasher, long size, CancellationToken cancellationToken)
    {
        long held = upload.HeldBytes;
        if (held > size)
        {
            held = 0;
        }

        await upload.HashPrefixAsync(held, hasher, cancellationToken);
        await Writer.WriteAsync(Messages.Ready(request.RequestId, held, hasher.Name, hasher.GetCurrentHash()), cancellationToken);
        long start = await ReadResumeFromAsync(request.RequestId, held, cancellationToken);
        upload.ContinueAt(start);
        if (start == held)
        {
            return (start, hasher);
        }

        // The client's bytes differ from the held ones: start over with a fresh hash.
        var fresh = HashAlgorithms.Create(hasher.Name);
        hasher.Dispose();
        return (0, fresh);
    }

    private async Task<long> ReadResumeFromAsync(uint requestId, long held, CancellationToken cancellationToken)
    {
        var frame = await Reader.ReadRequiredFrameAsync(cancellationToken);
        if (frame.Type != MessageType.ResumeFrom || frame.RequestId != requestId)
        {
            throw new ProtocolViolationException($"expected ResumeFrom for request {requestId}, got {frame}");
        }

        long start = frame.GetSize(FieldTag.Offset);
        return start == 0 || start == held
            ? start
            : throw new ProtocolViolationException($"ResumeFrom offset {start} is neither 0 nor the {held} bytes held");
    }

    private async Task DiscardBodyAsync(uint requestId, bool chunked, bool compressed, long size, CancellationToken cancellationToken)
    {
        _inBody = true;
        if (chunked)
        {
            var body = compressed ? await Reader.DiscardCompressedChunkedBodyAsync(cancellationToken) : await Reader.DiscardChunkedBodyAsync(cancellationToken);
            if (body.Aborted)
            {
                _inBody = false;
                return;
            }
        }
        else if (compressed)
        {
            await Reader.DiscardCompressedBodyAsync(size, cancellationToken);
        }
        else
        {
            await Reader.DiscardBodyAsync(size, cancellationToken);
        }

        await ReadBodyEndAsync(requestId, expectedAlgorithm: null, cancellationToken);
        _inBody = false;
    }

    /// <summary>
    /// The body encoding a Put or Get names. A compressed one from a client that did not negotiate
    /// <see cref="Capabilities.Compression"/> cannot be read in step: a protocol violation, as an unknown one is.
    /// </summary>
    private BodyEncoding RequireEncoding(Frame request)
    {
        var encoding = Messages.ReadEncoding(request);
        return encoding == BodyEncoding.Plain || _capabilities.HasFlag(Capabilities.Compression)
            ? encoding
            : throw new ProtocolViolationException($"{request.Type} asks for a compressed body without the Compression capability");
    }

    private async Task<byte[]> ReadBodyEndAsync(uint requestId, string? expectedAlgorithm, CancellationToken cancellationToken)
    {
        var end = await Reader.ReadRequiredFrameAsync(cancellationToken);
        if (end.Type != MessageType.BodyEnd || end.RequestId != requestId)
        {
            throw new ProtocolViolationException($"expected BodyEnd for request {requestId}, got {end}");
        }

        if (expectedAlgorithm is not null && end.GetString(FieldTag.HashAlgorithm) != expectedAlgorithm)
        {
            throw new ProtocolViolationException("BodyEnd names a different hash algorithm than its Put");
        }

        return end.GetBytes(FieldTag.HashValue);
    }

    private readonly record struct PendingCommit(IUpload Upload, uint RequestId, long Started, string Algorithm, byte[] Hash);
}
