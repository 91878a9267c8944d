namespace FileXfer.Client;

/// <summary>Pipelined batches: requests are sent ahead of their answers, so many small files cost no round trip each.</summary>
public sealed partial class FileXferClient
{
    /// <summary>How many requests a batch keeps in flight before it waits for answers.</summary>
    public const int PipelineWindow = 256;

    /// <summary>
    /// Uploads every item, pipelined. Each file's body is chunked so that a file that changes while it is read
    /// is abandoned on its own; a failed item is reported through <paramref name="onResult"/> and the batch goes on.
    /// Connection failures end the batch with an exception.
    /// </summary>
    public async Task PutBatchAsync(IAsyncEnumerable<TransferItem> items, Func<BatchItemResult, ValueTask> onResult, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onResult);
        RequireCapability(Capabilities.Pipelining | Capabilities.ChunkedBody);
        var algorithm = _options.HashAlgorithm;
        using var directories = OperatingSystem.IsLinux() ? new LocalDirectories() : null;
        await PipelineAsync<TransferItem, SentUpload>(
            items,
            async (item, id, token) =>
            {
                var remote = RemotePath.Normalize(item.RemotePath);
                LocalSource source;
                try
                {
                    // Relative to the directory's handle, opened once for the batch, when there is one.
                    source = LocalSource.Open(item.LocalPath, directories?.Get(Path.GetDirectoryName(item.LocalPath) is { Length: > 0 } parent ? parent : "."));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    return new SentUpload(remote, 0, null, null, ex);
                }

                await using (source)
                {
                    long? length = source.ChunkedLength;
                    var put = Messages.WithEncoding(Messages.Put(id, remote, length, algorithm, source.Modified, source.Mode, PutFlags.Chunked | PutFlags.NoWait), BodyEncoding);
                    await _writer.WriteAsync(Messages.WithParentTime(put, Capabilities.HasFlag(Capabilities.DirectoryTimes) ? item.ParentModified : null), token);
                    using var hasher = Protocol.Hashing.HashAlgorithms.Create(algorithm);
                    var body = await WriteChunkedBodyAsync(source.Stream, length, hasher, id, progress, token);
                    string? changed = body.AbortReason ?? (source.HasChanged() ? "it was modified while it was being sent" : null);
                    directories?.Trim();
                    return new SentUpload(remote, body.Length, body.Hash, changed, null);
                }
            },
            async (item, sent, id, token) =>
            {
                if (sent.LocalError is { } localError)
                {
                    await onResult(new BatchItemResult(sent.Remote, item.LocalPath, 0, algorithm, null, localError));
                    return;
                }

                Exception? error = null;
                bool parentTimeNotSet = false;
                try
                {
                    var ok = await ReadResponseAsync(id, MessageType.Ok, token);
                    parentTimeNotSet = Messages.ReadParentTimeNotSet(ok);
                    if (StoredHashMismatch(ok, sent.Remote, algorithm, sent.Hash) is { } mismatch)
                    {
                        error = mismatch;
                    }
                    else if (sent.ChangeReason is { } reason)
                    {
                        error = new SourceChangedException($"'{item.LocalPath}' changed while it was read: {reason}; the stored copy may not match it");
                    }
                }
                catch (FileXferException ex) when (IsItemFailure(ex))
                {
                    error = sent.ChangeReason is { } reason
                        ? new SourceChangedException($"'{item.LocalPath}' changed while it was read: {reason}; nothing was stored", ex)
                        : ex;
                }

                await onResult(new BatchItemResult(sent.Remote, item.LocalPath, sent.Length, algorithm, error is null ? sent.Hash : null, error) { ParentTimeNotSet = parentTimeNotSet });
            },
            cancellationToken);
    }

    /// <summary>
    /// Downloads every item, pipelined, each through a temp file beside its destination that is renamed only
    /// after its hash matched and its data is on disk (committed in groups: one flush for many small files, while the
    /// next group is received). Each item is reported through <paramref name="onResult"/> once its group is committed,
    /// in order, one at a time; a failed item is reported the same way and the batch goes on. When
    /// <paramref name="onResult"/> throws, the batch stops soon after (files already committed stay) and that exception
    /// is raised.
    /// </summary>
    public async Task GetBatchAsync(IAsyncEnumerable<TransferItem> items, Func<BatchItemResult, ValueTask> onResult, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onResult);
        var algorithm = _options.HashAlgorithm;
        using var directories = OperatingSystem.IsLinux() ? new LocalDirectories() : null;
        await using var groups = new CommitGroups(onResult, algorithm);
        try
        {
            await PipelineAsync<TransferItem, string>(
                items,
                async (item, id, token) =>
                {
                    var remote = RemotePath.Normalize(item.RemotePath);
                    await _writer.WriteAsync(Messages.WithEncoding(Messages.Get(id, remote, algorithm), BodyEncoding), token);
                    return remote;
                },
                async (item, remote, id, token) =>
                {
                    await groups.ThrowIfStoppedAsync();
                    if (directories is not null && directories.IsFullFor(Path.GetDirectoryName(Path.GetFullPath(item.LocalPath)) ?? string.Empty))
                    {
                        // As many directory handles as a batch keeps: everything received is committed so they can be closed.
                        await groups.HandOverAsync();
                        directories.Trim();
                    }

                    LocalDownload file;
                    try
                    {
                        file = await ReceiveToTempAsync(id, remote, item.LocalPath, progress, token, directories);
                    }
                    catch (Exception ex) when (ex is FileXferException fx && IsItemFailure(fx) || ex is LocalWriteException)
                    {
                        await groups.AddAsync(item, remote, null, ex);
                        return;
                    }

                    await groups.AddAsync(item, remote, file, null);
                },
                cancellationToken);
            await groups.HandOverAsync();
        }
        catch (Exception ex) when (ex is IOException or FileXferException or OperationCanceledException)
        {
            // The connection broke: the files already received whole and verified are still kept.
            await groups.SalvageAsync();
            throw;
        }
    }

    /// <summary>Has the server hash every path, pipelined.</summary>
    public Task HashBatchAsync(IEnumerable<string> remotePaths, Func<BatchItemResult, ValueTask> onResult, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onResult);
        var algorithm = _options.HashAlgorithm;
        return PipelineAsync<string, string>(
            remotePaths.ToAsyncEnumerable(),
            async (path, id, token) =>
            {
                var remote = RemotePath.Normalize(path);
                await _writer.WriteAsync(Messages.Hash(id, remote, algorithm), token);
                return remote;
            },
            async (path, remote, id, token) =>
            {
                BatchItemResult result;
                try
                {
                    var ok = await ReadResponseAsync(id, MessageType.Ok, token);
                    result = new BatchItemResult(remote, null, ok.GetSize(FieldTag.Size), algorithm, ok.GetBytes(FieldTag.HashValue), null);
                }
                catch (FileXferException ex) when (IsItemFailure(ex))
                {
                    result = new BatchItemResult(remote, null, 0, algorithm, null, ex);
                }

                await onResult(result);
            },
            cancellationToken);
    }

    /// <summary>Creates directories (or sets their time and mode), pipelined; failures go to <paramref name="onResult"/>.</summary>
    public Task MakeDirectoriesAsync(IEnumerable<RemoteEntry> directories, Func<BatchItemResult, ValueTask> onResult, CancellationToken cancellationToken)
    {
        RequireCapability(Capabilities.Trees);
        return SimpleBatchAsync(directories, (entry, id) => Messages.MakeDirectory(id, RemotePath.Normalize(entry.Name), entry.ModifiedUtc, entry.Mode), onResult, cancellationToken);
    }

    /// <summary>Deletes remote paths, pipelined; failures go to <paramref name="onResult"/>.</summary>
    public Task DeleteBatchAsync(IEnumerable<string> remotePaths, Func<BatchItemResult, ValueTask> onResult, CancellationToken cancellationToken) =>
        SimpleBatchAsync(remotePaths.Select(p => new RemoteEntry(p, EntryKind.Other, 0, default, null)), (entry, id) => Messages.PathRequest(MessageType.Delete, id, RemotePath.Normalize(entry.Name)), onResult, cancellationToken);

    private Task SimpleBatchAsync(IEnumerable<RemoteEntry> entries, Func<RemoteEntry, uint, Frame> request, Func<BatchItemResult, ValueTask> onResult, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onResult);
        return PipelineAsync<RemoteEntry, string>(
            entries.ToAsyncEnumerable(),
            async (entry, id, token) =>
            {
                var frame = request(entry, id);
                await _writer.WriteAsync(frame, token);
                return frame.GetString(FieldTag.Path);
            },
            async (entry, remote, id, token) =>
            {
                Exception? error = null;
                try
                {
                    await ReadResponseAsync(id, MessageType.Ok, token);
                }
                catch (FileXferException ex) when (IsItemFailure(ex))
                {
                    error = ex;
                }

                await onResult(new BatchItemResult(remote, null, 0, _options.HashAlgorithm, null, error));
            },
            cancellationToken);
    }

    /// <summary>Runs a <see cref="RequestPipeline"/> over this connection, holding it for the run; a broken pipeline breaks the connection.</summary>
    private async Task PipelineAsync<TItem, TSent>(
        IAsyncEnumerable<TItem> items,
        Func<TItem, uint, CancellationToken, Task<TSent>> send,
        Func<TItem, TSent, uint, CancellationToken, Task> receive,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_broken)
            {
                throw new ConnectionLostException("the connection was left unusable by an earlier failure");
            }

            _inFlight = true;
            await RequestPipeline.RunAsync(items, _writer, () => ++_nextRequestId, PipelineWindow, send, receive, cancellationToken);
            _inFlight = false;
        }
        catch (Exception ex) when (ex is ProtocolViolationException or ConnectionLostException or OperationCanceledException or EndOfStreamException)
        {
            _broken = true;
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>True for an error the server answered for one request, after which the connection is still in step.</summary>
    private bool IsItemFailure(FileXferException exception) =>
        !_broken && exception is not ProtocolViolationException && exception.Code is not (ErrorCode.UnknownMessage or ErrorCode.ProtocolViolation);

    private sealed record SentUpload(string Remote, long Length, byte[]? Hash, string? ChangeReason, Exception? LocalError);
}
