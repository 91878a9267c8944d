using System.Threading.Channels;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Paths;
using FileXfer.Protocol.Transfer;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client;

/// <summary>Pipelined batches: requests are sent ahead of their answers, so many small files cost no round trip each.</summary>
public sealed partial class FileXferClient
{
    /// <summary>How many requests a batch keeps in flight before it waits for answers.</summary>
    public const int PipelineWindow = 256;

    // Received files are made durable together, in groups this large (files, bytes): one syncfs and one fsync of each
    // directory per group. Larger groups were slower on a disk (measured with 1,024: the flushing, which small groups
    // overlap with receiving, piled up at the end). Files written through a batch's directory handles are closed once
    // written, and a batch holds at most 64 directory handles, so a group holds few descriptors.
    private const int LocalCommitGroup = 128;
    private const long LocalCommitBytes = 256L * 1024 * 1024;

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
                InlineFileStream file;
                DateTimeOffset modified;
                int? mode;
                SafeFileHandle? directory = null;
                string name = Path.GetFileName(item.LocalPath);
                try
                {
                    directory = directories?.Get(Path.GetDirectoryName(item.LocalPath) is { Length: > 0 } parent ? parent : ".");
                    (file, modified, mode) = OpenSource(item.LocalPath, directory, name);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    return new SentUpload(remote, 0, null, null, ex);
                }

                await using (file)
                {
                    long? length = ChunkedBodyLength(file.Length);
                    await _writer.WriteAsync(Messages.Put(id, remote, length, algorithm, modified, mode, PutFlags.Chunked | PutFlags.NoWait), token);
                    using var hasher = HashAlgorithms.Create(algorithm);
                    var body = await _writer.WriteChunkedBodyAsync(file, length, hasher, id, progress, token);
                    string? changed = body.AbortReason
                        ?? (ModifiedNow(item.LocalPath, directory, name) != modified ? "it was modified while it was being sent" : null);
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
                try
                {
                    var ok = await ReadResponseAsync(id, MessageType.Ok, token);
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

                await onResult(new BatchItemResult(sent.Remote, item.LocalPath, sent.Length, algorithm, error is null ? sent.Hash : null, error));
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
        var group = new List<(TransferItem Item, string Remote, ReceivedFile? File, Exception? Error)>();
        long groupBytes = 0;
        using var directories = OperatingSystem.IsLinux() ? new LocalDirectories() : null;

        // The group handed over to be made durable while the next group is received: a group's syncfs and directory
        // fsyncs wait on the disk, and the connection would stand still meanwhile. One at a time: the next group is
        // handed over once this one is done, so few files wait open and the reports keep up.
        Task committing = Task.CompletedTask;

        Task HandOverGroup()
        {
            var batch = group.ToArray();
            group.Clear();
            groupBytes = 0;
            committing = CommitAndReportAsync(committing, batch);
            return committing;
        }

        async Task CommitAndReportAsync(Task previous, (TransferItem Item, string Remote, ReceivedFile? File, Exception? Error)[] batch)
        {
            Exception? earlier = null;
            try
            {
                await previous;
            }
            catch (Exception ex)
            {
                // The earlier group's report failed: this group's files are still made durable (they were received
                // whole and verified), and the failure is raised after that, in place of this group's report.
                earlier = ex;
            }

            var files = batch.Where(g => g.File is not null).Select(g => g.File!).ToList();
            Exception?[] failures;
            try
            {
                failures = files.Count == 0 ? [] : await Task.Run(() => CommitReceived(files), CancellationToken.None);
            }
            catch
            {
                // Not a file's failure (those are returned): whatever was not renamed into place leaves no temp file.
                foreach (var file in files)
                {
                    await DiscardAsync(file);
                }

                throw;
            }

            if (earlier is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(earlier);
            }

            int next = 0;
            foreach (var (item, remote, file, error) in batch)
            {
                var failure = file is null ? error : failures[next++] is { } commitFailure ? LocalWriteException.For(item.LocalPath, commitFailure) : null;
                await onResult(failure is null
                    ? new BatchItemResult(remote, item.LocalPath, file!.Result.Size, algorithm, file.Result.Hash, null)
                    : new BatchItemResult(remote, item.LocalPath, 0, algorithm, null, failure));
            }
        }

        try
        {
            await PipelineAsync<TransferItem, string>(
                items,
                async (item, id, token) =>
                {
                    var remote = RemotePath.Normalize(item.RemotePath);
                    await _writer.WriteAsync(Messages.Get(id, remote, algorithm), token);
                    return remote;
                },
                async (item, remote, id, token) =>
                {
                    if (committing.IsFaulted || committing.IsCanceled)
                    {
                        // A report failed (the caller wants to stop) or a commit did: the batch ends here.
                        await committing;
                    }

                    if (directories is not null && directories.IsFullFor(Path.GetDirectoryName(Path.GetFullPath(item.LocalPath)) ?? string.Empty))
                    {
                        // As many directory handles as a batch keeps: everything received is committed so they can be closed.
                        await HandOverGroup();
                        directories.Trim();
                    }

                    try
                    {
                        var file = await ReceiveToTempAsync(id, remote, item.LocalPath, progress, token, directories);
                        group.Add((item, remote, file, null));
                        groupBytes += file.Result.Size;
                    }
                    catch (Exception ex) when (ex is FileXferException fx && IsItemFailure(fx) || ex is LocalWriteException)
                    {
                        group.Add((item, remote, null, ex));
                    }

                    if (group.Count >= LocalCommitGroup || groupBytes >= LocalCommitBytes)
                    {
                        await committing;
                        _ = HandOverGroup();
                    }
                },
                cancellationToken);
            await HandOverGroup();
        }
        catch (Exception ex) when (ex is IOException or FileXferException or OperationCanceledException)
        {
            // The connection broke: the files already received whole and verified are still kept.
            try
            {
                await HandOverGroup();
            }
            catch (Exception)
            {
                // An earlier report's failure, or a commit's: second to the failure being raised.
            }

            throw;
        }
        finally
        {
            // A group still being committed finishes before the directory handles it uses are closed; its failure, if
            // any, was raised above or belongs to the failure being raised now.
            await committing.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

            // Whatever was not handed over (the batch stopped on a failure) leaves no temp file behind.
            foreach (var (_, _, file, _) in group)
            {
                if (file is not null)
                {
                    await DiscardAsync(file);
                }
            }
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

    /// <summary>
    /// Runs a sender and a receiver at once over one connection: the sender sends a request per item, at most
    /// <see cref="PipelineWindow"/> ahead of the receiver, which reads the answers in order. Items may come as they
    /// are found: whenever the next one is not ready yet, what was written is sent first, so no request waits in a
    /// buffer for a later one.
    /// </summary>
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

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var inFlight = Channel.CreateBounded<(TItem Item, TSent Sent, uint Id)>(new BoundedChannelOptions(PipelineWindow)
            {
                SingleReader = true,
                SingleWriter = true,
            });

            var sender = Task.Run(async () =>
            {
                try
                {
                    await using var next = items.GetAsyncEnumerator(stop.Token);
                    while (true)
                    {
                        var more = next.MoveNextAsync();
                        if (!more.IsCompleted)
                        {
                            await _writer.FlushAsync(stop.Token);
                        }

                        if (!await more)
                        {
                            break;
                        }

                        var item = next.Current;
                        uint id = ++_nextRequestId;
                        var sent = await send(item, id, stop.Token);
                        if (!inFlight.Writer.TryWrite((item, sent, id)))
                        {
                            // The window is full: send what is gathered so the answers can come back.
                            await _writer.FlushAsync(stop.Token);
                            await inFlight.Writer.WriteAsync((item, sent, id), stop.Token);
                        }
                    }

                    await _writer.FlushAsync(stop.Token);
                    inFlight.Writer.Complete();
                }
                catch (Exception ex)
                {
                    inFlight.Writer.Complete(ex);
                    throw;
                }
            }, CancellationToken.None);

            try
            {
                await foreach (var (item, sent, id) in inFlight.Reader.ReadAllAsync(stop.Token))
                {
                    await receive(item, sent, id, stop.Token);
                }
            }
            catch (Exception ex) when (ex is not ChannelClosedException)
            {
                // The receiver failed (the connection broke): stop the sender too.
                await stop.CancelAsync();
                try
                {
                    await sender;
                }
                catch (Exception senderFailure) when (senderFailure is OperationCanceledException or IOException or FileXferException)
                {
                    // The receiver's failure is the one to report; the sender only stopped because of it.
                }

                throw;
            }
            catch (ChannelClosedException ex) when (ex.InnerException is not null)
            {
                // The sender failed: its exception is the cause.
                await sender.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw ex.InnerException;
            }

            await sender;
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

    /// <summary>
    /// Opens a file to send and reads its size, time and permission bits: on Linux one open and one fstat of the handle
    /// (so the three describe the file that is read), elsewhere through .NET.
    /// </summary>
    private static (InlineFileStream File, DateTimeOffset Modified, int? Mode) OpenSource(string path, SafeFileHandle? directory, string name)
    {
        if (!OperatingSystem.IsLinux())
        {
            var file = InlineFileStream.OpenRead(path);
            var modified = new DateTimeOffset(new FileInfo(path).LastWriteTimeUtc, TimeSpan.Zero);
            return (file, modified, OperatingSystem.IsWindows() ? null : (int)File.GetUnixFileMode(file.Handle));
        }

        // Relative to the directory's handle, opened once for the batch, when there is one (a link is followed as by open).
        var handle = directory is null ? Posix.OpenRead(path) : Posix.OpenReadAt(directory, name, path);
        if (!Posix.TryStat(handle, out var status, out int errno))
        {
            handle.Dispose();
            throw new IOException($"cannot examine '{path}' (errno {errno})");
        }

        return (InlineFileStream.FromHandle(handle, FileAccess.Read, status.Size), status.ModifiedUtc, status.PermissionBits);
    }

    /// <summary>The modification time <paramref name="path"/> has now (following links); null when it is gone.</summary>
    private static DateTimeOffset? ModifiedNow(string path, SafeFileHandle? directory, string name)
    {
        if (OperatingSystem.IsLinux())
        {
            var found = directory is null
                ? Posix.TryStat(path, followLinks: true, out var status, out _)
                : Posix.TryStatAt(directory, name, followLinks: true, out status, out _);
            return found ? status.ModifiedUtc : null;
        }

        var info = new FileInfo(path);
        return info.Exists ? new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero) : null;
    }

    /// <summary>True for an error the server answered for one request, after which the connection is still in step.</summary>
    private bool IsItemFailure(FileXferException exception) =>
        !_broken && exception is not ProtocolViolationException && exception.Code is not (ErrorCode.UnknownMessage or ErrorCode.ProtocolViolation);

    private sealed record SentUpload(string Remote, long Length, byte[]? Hash, string? ChangeReason, Exception? LocalError);
}
