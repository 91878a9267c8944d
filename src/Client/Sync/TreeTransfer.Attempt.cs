using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace FileXfer.Client.Sync;

public sealed partial class TreeTransfer
{
    /// <summary>
    /// One attempt of a run: the listing connection, the transfer queue and its connections, the items in flight.
    /// </summary>
    private sealed partial class Attempt(TreeTransfer owner, string operation, Func<TreeEvent, ValueTask> onEvent, CancellationTokenSource stop) : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<string, QueuedTransfer> _inFlight = new(StringComparer.Ordinal);
        // Requests and comparisons started by the walk and not yet finished: at most MaxTracked at once, so a tree
        // of a million equal-sized files under --checksum holds a window of comparisons, not a task per file.
        private const int MaxTracked = FileXferClient.PipelineWindow;
        private readonly SemaphoreSlim _trackedSlots = new(MaxTracked);
        private readonly TaskCompletionSource _trackedDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _tracked = 1;
        private Exception? _trackedFailure;
        private readonly List<Task> _workers = [];
        private readonly TaskCompletionSource _allQueued = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Func<FileXferClient, ChannelReader<QueuedTransfer>, Task>? _work;
        private int _connections = Math.Clamp(owner._options.Parallel, 1, 64);
        // Workers that may still carry files: a worker the server refuses (too many connections) leaves the queue to them.
        private int _live;
        // Set when the attempt is disposed: a link measure told after that opens nothing (UseLink).
        private bool _closed;
        private int _announcedFiles;
        private long _announcedBytes;

        // Written by the walk and, with --checksum, by the comparisons it started.
        public Channel<QueuedTransfer> Transfers { get; } = Channel.CreateBounded<QueuedTransfer>(new BoundedChannelOptions(FileXferClient.PipelineWindow * 2));

        public RequestQueue? Requests { get; set; }

        public CancellationToken Token => stop.Token;

        public TreeProgress Progress => owner.Progress;

        public ValueTask EmitAsync(DirectoryNode? node, string? name, ItemStatus status, string? local, string remote, long bytes, string? hashHex = null, Exception? error = null) =>
            Progress.EmitAsync(node, name, new TreeEvent(status == ItemStatus.Deleted ? "delete" : operation, status, local, remote, bytes, owner._algorithm, hashHex, error), onEvent);

        /// <summary>Reports a deletion that failed.</summary>
        public ValueTask EmitDeleteFailedAsync(string remote, Exception error) =>
            Progress.EmitAsync(null, null, new TreeEvent("delete", ItemStatus.Failed, null, remote, 0, owner._algorithm, null, error), onEvent);

        /// <summary>Queues a file for the transfer connections (waits while the queue is full).</summary>
        public async ValueTask QueueAsync(DirectoryNode node, string name, TransferItem item, long size)
        {
            node.Start();
            lock (_workers)
            {
                _announcedFiles++;
                _announcedBytes += size;
                owner._options.Planned?.Invoke(_announcedFiles, _announcedBytes);
            }

            await Transfers.Writer.WriteAsync(new QueuedTransfer(item, size, node, name), Token);
            AddWorker();
        }

        /// <summary>Tracks a request of <paramref name="node"/>, sent by <paramref name="send"/>, whose answer is handled by <paramref name="onAnswer"/>.</summary>
        public ValueTask TrackAsync<T>(DirectoryNode node, Func<Task<T>> send, Func<T, ValueTask> onAnswer)
        {
            Task<T>? answer = null;
            return TrackAsync(node, () => answer = send(), () => onAnswer(answer!.Result));
        }

        /// <summary>
        /// Tracks work of <paramref name="node"/>: <paramref name="start"/> begins it once one of the tracking slots is
        /// free (waiting for one while all are taken), <paramref name="then"/> finishes it.
        /// </summary>
        public async ValueTask TrackAsync(DirectoryNode node, Func<Task> start, Func<ValueTask> then)
        {
            await _trackedSlots.WaitAsync(Token);
            node.Start();
            Interlocked.Increment(ref _tracked);
            _ = HandleAsync(start());

            async Task HandleAsync(Task answer)
            {
                try
                {
                    await answer;
                    await then();
                }
                catch (Exception ex)
                {
                    // Raised by RequestsDoneAsync: the first failure is the attempt's (the connection's).
                    Interlocked.CompareExchange(ref _trackedFailure, ex, null);
                }
                finally
                {
                    Progress.Finish(node);
                    _trackedSlots.Release();
                    Untrack();
                }
            }
        }

        /// <summary>
        /// Walks both trees from <paramref name="top"/> (visiting each directory through <paramref name="visit"/>)
        /// while the transfer connections run <paramref name="work"/> on what it queues; returns once every queued
        /// file was transferred. A failed transfer connection stops the walk, and its failure is the one raised.
        /// </summary>
        public async Task WalkAndTransferAsync(
            DirectoryJob top,
            string localTop,
            string remoteRoot,
            Func<DirectoryPair, ValueTask<IReadOnlyList<DirectoryJob>>> visit,
            Func<FileXferClient, ChannelReader<QueuedTransfer>, Task> work,
            CancellationToken cancellationToken,
            Task<DirectoryListing>? topListing = null)
        {
            var requests = Requests ?? throw new InvalidOperationException("the listing queue is not started");
            var transfers = RunTransfersAsync(work);
            try
            {
                // The top's listing may already be on its way, asked for with the top's description (one round trip).
                await TreeWalk.RunAsync(top, job => FetchAsync(job, localTop, remoteRoot, requests, job == top ? topListing : null), visit, ReadAhead, Token);

                // Comparisons by hash may still queue files.
                await RequestsDoneAsync();
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A transfer connection failed and stopped the walk: its failure is the one raised below.
            }
            finally
            {
                CompleteQueue();
            }

            await transfers;
            Token.ThrowIfCancellationRequested();
        }

        /// <summary>Waits for every tracked request (the walk has ended: none is added); the first failure is raised.</summary>
        public async Task RequestsDoneAsync()
        {
            Untrack();
            await _trackedDone.Task;
            if (Volatile.Read(ref _trackedFailure) is { } failure)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }

        private void Untrack()
        {
            if (Interlocked.Decrement(ref _tracked) == 0)
            {
                _trackedDone.TrySetResult();
            }
        }

        /// <summary>
        /// The small files at the head of the queue, as they come, up to the first large one (left for a resumable
        /// transfer) or the end of the queue; each is remembered until its result is reported.
        /// </summary>
        public async IAsyncEnumerable<TransferItem> SmallFilesAsync(ChannelReader<QueuedTransfer> reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            while (await reader.WaitToReadAsync(cancellationToken))
            {
                if (reader.TryPeek(out var next) && next.Size >= ResumableSize)
                {
                    yield break;
                }

                if (reader.TryRead(out var item))
                {
                    _inFlight[item.Item.RemotePath] = item;
                    yield return item.Item;
                }
            }
        }

        /// <summary>Takes the queued file a batch result belongs to.</summary>
        public QueuedTransfer Take(string remotePath) =>
            _inFlight.TryRemove(remotePath, out var item) ? item : throw new InvalidOperationException($"no transfer of '{remotePath}' is in flight");

        /// <summary>Reports a transfer's outcome and finishes it in its directory.</summary>
        public async ValueTask ReportAsync(QueuedTransfer item, long bytes, string? hashHex, Exception? error, bool remoteSource)
        {
            try
            {
                var status = Classify(error, remoteSource);
                if (status == ItemStatus.Failed && !remoteSource && error is IOException or UnauthorizedAccessException)
                {
                    // A source that could not be read: what is missing from the walk may not be gone, so nothing is deleted.
                    Progress.SendingFailed = true;
                }

                await EmitAsync(item.Node, item.Name, status, item.Item.LocalPath, item.Item.RemotePath, error is null ? bytes : 0, hashHex, error);
            }
            finally
            {
                Progress.Finish(item.Node);
            }
        }

        public async ValueTask DisposeAsync()
        {
            CompleteQueue();
            if (Requests is { } requests)
            {
                await requests.DisposeAsync();
            }

            Task[] running;
            lock (_workers)
            {
                _closed = true;
                running = [.. _workers];
            }

            if (running.Any(worker => !worker.IsCompleted))
            {
                // The attempt failed before it waited for its transfers (the listing connection could not be opened):
                // connections opened ahead are closed now, not left to finish on their own.
                await stop.CancelAsync();
                try
                {
                    await Task.WhenAll(running);
                }
                catch (Exception)
                {
                    // The attempt's own failure is the one raised; these connections only stopped with it.
                }
            }
        }
    }
}
