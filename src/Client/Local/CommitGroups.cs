using System.Runtime.ExceptionServices;

namespace FileXfer.Client.Local;

/// <summary>
/// A batch's received files, made durable in groups while the next group is received, and reported in order, one at a
/// time, once their group is committed. A group's syncfs and directory fsyncs wait on the disk, and the connection would
/// stand still meanwhile; one group is committed at a time, so few files wait open and the reports keep up. When a report
/// throws, the next step of the batch raises it (files already committed stay).
/// </summary>
/// <param name="onResult">Takes each item's outcome.</param>
/// <param name="algorithm">The batch's hash algorithm, for the outcomes.</param>
internal sealed class CommitGroups(Func<BatchItemResult, ValueTask> onResult, string algorithm) : IAsyncDisposable
{
    // Received files are made durable together, in groups this large (files, bytes): one syncfs and one fsync of each
    // directory per group. Larger groups were slower on a disk (measured with 1,024: the flushing, which small groups
    // overlap with receiving, piled up at the end). Files written through a batch's directory handles are closed once
    // written, and a batch holds at most 64 directory handles, so a group holds few descriptors.
    private const int GroupFiles = 128;
    private const long GroupBytes = 256L * 1024 * 1024;

    private readonly List<Received> _group = [];
    private long _groupBytes;

    // The group handed over to be made durable while the next group is received.
    private Task _committing = Task.CompletedTask;

    /// <summary>Raises a report's failure (the caller wants to stop) or a commit's: the batch ends there.</summary>
    public async Task ThrowIfStoppedAsync()
    {
        if (_committing.IsFaulted || _committing.IsCanceled)
        {
            await _committing;
        }
    }

    /// <summary>Adds a received file, or an item's failure, to the group; a full group is handed over to be committed.</summary>
    public async Task AddAsync(TransferItem item, string remote, LocalDownload? file, Exception? error)
    {
        _group.Add(new Received(item, remote, file, error));
        _groupBytes += file?.Result.Size ?? 0;
        if (_group.Count >= GroupFiles || _groupBytes >= GroupBytes)
        {
            await _committing;
            _ = HandOverAsync();
        }
    }

    /// <summary>Hands the group over to be committed after the one before it, and returns the task of its commit and reports.</summary>
    public Task HandOverAsync()
    {
        var batch = _group.ToArray();
        _group.Clear();
        _groupBytes = 0;
        _committing = CommitAndReportAsync(_committing, batch);
        return _committing;
    }

    /// <summary>The connection broke: the files already received whole and verified are still committed and reported.</summary>
    public async Task SalvageAsync()
    {
        try
        {
            await HandOverAsync();
        }
        catch (Exception)
        {
            // An earlier report's failure, or a commit's: second to the failure the batch is raising.
        }
    }

    /// <summary>
    /// Waits for a group still being committed (before the directory handles it uses are closed; its failure, if any, was
    /// raised already or belongs to the failure being raised now); whatever was not handed over leaves no temp file.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _committing.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        foreach (var received in _group)
        {
            if (received.File is { } file)
            {
                await file.DiscardAsync();
            }
        }

        _group.Clear();
    }

    private async Task CommitAndReportAsync(Task previous, Received[] batch)
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
            failures = files.Count == 0 ? [] : await Task.Run(() => LocalCommit.Commit(files), CancellationToken.None);
        }
        catch
        {
            // Not a file's failure (those are returned): whatever was not renamed into place leaves no temp file.
            foreach (var file in files)
            {
                await file.DiscardAsync();
            }

            throw;
        }

        if (earlier is not null)
        {
            ExceptionDispatchInfo.Throw(earlier);
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

    private sealed record Received(TransferItem Item, string Remote, LocalDownload? File, Exception? Error);
}
