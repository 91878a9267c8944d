using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage;

namespace FileXfer.Server.Handlers;

/// <summary>
/// A file in ranges over several connections (ParallelStreams): each range's Put, resumable within the range and
/// checked by its own hash, and the Assemble that checks the whole file's hash and commits it like any put.
/// </summary>
public sealed partial class FileXferRequestHandler
{
    private async Task<long> RangePutAsync(Frame request, PutFlags flags, long started, CancellationToken cancellationToken)
    {
        // Its body is framed as a resumable put's, or with NoWait (EagerRanges) follows the Put at once: no other flag can apply.
        bool eager = flags == (PutFlags.Range | PutFlags.NoWait);
        if (flags != PutFlags.Range && !eager)
        {
            throw new ProtocolViolationException($"a ranged Put has no other flags than NoWait (got 0x{(ulong)flags:x})");
        }

        long size = request.GetSizeOrNull(FieldTag.Size) ?? throw new ProtocolViolationException("a ranged Put needs the whole file's Size");
        var range = RangeMessages.ReadRange(request) ?? throw new ProtocolViolationException("a ranged Put needs RangeOffset and RangeLength");
        string algorithm;
        RangeStart start;
        IRangeUpload begun;
        try
        {
            RequireWrite("put");
            algorithm = RequireAlgorithm(request);
            var ranges = Store as IRangedUploads ?? throw new FileXferException(ErrorCode.BadRequest, "this server's store cannot take a file in ranges");
            start = new RangeStart(request.GetString(FieldTag.Path), size, algorithm, request.GetBytesOrNull(FieldTag.TransferId) ?? [], range);
            begun = await ranges.BeginRangeAsync(start, ResumeKeyWait, Connection.TimeProvider, cancellationToken);
        }
        catch (FileXferException) when (eager)
        {
            // The range's bytes are already on their way: read past them and their BodyEnd, then refuse.
            await DiscardBodyAsync(request.RequestId, chunked: false, compressed: false, range.Length, cancellationToken);
            throw;
        }

        await using var upload = begun;

        // A range is abandoned when a newer connection takes it over (a retry of the client's).
        using var revocable = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, upload.Revoked);
        var receiving = revocable.Token;
        var hasher = HashAlgorithms.Create(algorithm);
        try
        {
            long from = 0;
            if (!eager)
            {
                long held = upload.HeldBytes;
                await upload.HashPrefixAsync(held, hasher, receiving);
                await Writer.WriteAsync(Messages.Ready(request.RequestId, held, algorithm, hasher.GetCurrentHash()), receiving);
                from = await ReadResumeFromAsync(request.RequestId, held, receiving);
                if (from != held)
                {
                    hasher.Dispose();
                    hasher = HashAlgorithms.Create(algorithm);
                }
            }

            // An eager range starts over at its first byte: what was held of it is not offered, and is overwritten.
            upload.ContinueAt(from);

            _inBody = true;
            await Reader.CopyBodyToAsync(upload.Body, range.Length - from, hasher, progress: null, receiving);
            var senderHash = await ReadBodyEndAsync(request.RequestId, algorithm, receiving);
            _inBody = false;
            var received = hasher.GetHashAndReset();
            upload.Complete(received, senderHash);
            var path = RemotePath.Normalize(start.Path);
            await Writer.WriteAsync(Messages.HashOk(request.RequestId, path, range.Length, algorithm, received), cancellationToken);
            ServerLog.RangeReceived(logger, Connection.Id, request.RequestId, RemotePath.Escape(path), range.Offset, range.Length, range.Length - from, Elapsed(started));
            options.Metrics?.RequestCompleted(nameof(MessageType.Put), "ok", range.Length - from, Connection.TimeProvider.GetElapsedTime(started));
            return range.Length - from;
        }
        catch (OperationCanceledException ex) when (upload.Revoked.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ConnectionLostException($"range {range} of '{RemotePath.Escape(start.Path)}' was taken over by a newer connection", ex);
        }
        finally
        {
            hasher.Dispose();
        }
    }

    /// <summary>
    /// Names a file sent in ranges: the store's whole-file hash (kept running as the ranges arrived) must equal the
    /// client's, then the file goes through the same durable group commit as any put, and is answered after it.
    /// </summary>
    private async Task<long> AssembleAsync(Frame request, long started, CancellationToken cancellationToken)
    {
        RequireWrite("put");
        var algorithm = RequireAlgorithm(request);
        long size = request.GetSize(FieldTag.Size);
        var senderHash = request.GetBytes(FieldTag.HashValue);
        var ranges = Store as IRangedUploads ?? throw new FileXferException(ErrorCode.BadRequest, "this server's store cannot take a file in ranges");
        var (upload, hash) = await ranges.AssembleAsync(new RangeStart(request.GetString(FieldTag.Path), size, algorithm, request.GetBytes(FieldTag.TransferId), default), cancellationToken);
        bool queued = false;
        try
        {
            upload.Seal(size, hash, senderHash, Messages.ReadModified(request), Messages.ReadMode(request), algorithm, Messages.ReadParentModified(request));
            _pendingCommits.Add(new PendingCommit(upload, request.RequestId, started, algorithm, hash));
            queued = true;
        }
        finally
        {
            if (!queued)
            {
                await upload.DisposeAsync();
            }
        }

        // Answered (Ok after the commit, or the commit's error) in request order, as every put.
        await CommitPendingAsync(cancellationToken);
        return size;
    }
}
