using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace FileXfer.Client.Sync;

public sealed partial class TreeTransfer
{
    /// <summary>
    /// One attempt of a run: the listing connection, the transfer queue and its connections, the items in flight.
    /// </summary>
    private sealed class Attempt(TreeTransfer owner, string operation, Func<TreeEvent, ValueTask> onEvent, CancellationTokenSource stop) : IAsyncDisposable
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
        /// Runs the transfer connections until the queue is completed and empty. They are opened as files are queued,
        /// one per file up to <see cref="TreeTransferOptions.Parallel"/> (or more on a long link, <see cref="UseLink"/>): a run with nothing to transfer opens none,
        /// one with two files two. A failed connection stops the attempt.
        /// </summary>
        public async Task RunTransfersAsync(Func<FileXferClient, ChannelReader<QueuedTransfer>, Task> work)
        {
            lock (_workers)
            {
                _work ??= work;
            }

            try
            {
                await _allQueued.Task;
                Task[] running;
                lock (_workers)
                {
                    running = [.. _workers];
                }

                await Task.WhenAll(running);
            }
            catch
            {
                await stop.CancelAsync();
                throw;
            }
        }

        /// <summary>No more files will be queued.</summary>
        public void CompleteQueue()
        {
            Transfers.Writer.TryComplete();
            _allQueued.TrySetResult();
        }

        private void AddWorker()
        {
            lock (_workers)
            {
                if (_work is null || _workers.Count >= _connections || _workers.Count >= _announcedFiles)
                {
                    return;
                }

                _live++;
                _workers.Add(RunWorkerAsync(_work));
            }
        }

        /// <summary>
        /// Told the link's round trip (the run's first TCP handshake's, or the listing connection's): on a long link (at least <see cref="TreeTransferOptions.LongLinkRoundTrip"/>)
        /// files may be spread over up to <see cref="TreeTransferOptions.LongLinkParallel"/> connections. When transfer
        /// connections were opened ahead (<see cref="PrestartTransfers"/>), the others open now too, with the run's
        /// ticket, while the top is listed (those that get no file close as the ones opened ahead do).
        /// </summary>
        public void UseLink(TimeSpan roundTrip)
        {
            if (roundTrip < TreeTransferOptions.LongLinkRoundTrip)
            {
                return;
            }

            lock (_workers)
            {
                if (_closed)
                {
                    // Told by the run after this attempt ended (its measure came from a connection still opening).
                    return;
                }

                _connections = Math.Max(_connections, Math.Clamp(owner._options.LongLinkParallel, 1, 64));
                if (_work is { } work)
                {
                    // Set this early only by PrestartTransfers (a retry calls it after this, the walk's queue later).
                    OpenAheadUpToLimit(work);
                }
            }
        }

        /// <summary>
        /// Opens the transfer connections at once, before the listing connection and the walk have found anything to
        /// send: their TCP and FileXfer handshakes then overlap the listing connection's and the first listings instead of
        /// following them, and files start at the first round trip the walk finds them in (docs/PERFORMANCE.md, "Latency-aware
        /// trees"). A connection that gets no file within <see cref="TreeTransferOptions.SpeculativeIdle"/> is given back
        /// (an incremental run that finds nothing to send keeps no idle connections) and opened again when a file comes.
        /// </summary>
        public void PrestartTransfers(Func<FileXferClient, ChannelReader<QueuedTransfer>, Task> work)
        {
            lock (_workers)
            {
                _work = work;
                OpenAheadUpToLimit(work);
            }
        }

        /// <summary>Opens connections ahead of need (<see cref="RunSpeculativeWorkerAsync"/>) up to the limit; under the lock.</summary>
        private void OpenAheadUpToLimit(Func<FileXferClient, ChannelReader<QueuedTransfer>, Task> work)
        {
            while (_workers.Count < _connections)
            {
                _live++;
                _workers.Add(RunSpeculativeWorkerAsync(work));
            }
        }

        private async Task RunSpeculativeWorkerAsync(Func<FileXferClient, ChannelReader<QueuedTransfer>, Task> work)
        {
            // Not under the lock of the caller that opens it: connecting may tell the run the link's round trip, and
            // that opens more workers (UseLink).
            await Task.Yield();
            FileXferClient? client = null;
            try
            {
                try
                {
                    client = await ConnectUnlessDrainedAsync();
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !Token.IsCancellationRequested)
                {
                    // Opened ahead of need: a refusal (a busy server) counts only once a file needs the connection, below.
                }

                if (client is not null && !await FirstFileWithinAsync(owner._options.SpeculativeIdle))
                {
                    // Nothing to send yet: no connection is kept waiting for the walk; the next file opens one again.
                    await client.DisposeAsync();
                    client = null;
                }

                if (client is null)
                {
                    if (!await Transfers.Reader.WaitToReadAsync(Token))
                    {
                        return;
                    }

                    client = await ConnectOrRetireAsync();
                    if (client is null)
                    {
                        return;
                    }
                }

                await work(client, Transfers.Reader);
                Leave();
            }
            catch
            {
                await stop.CancelAsync();
                throw;
            }
            finally
            {
                if (client is not null)
                {
                    await client.DisposeAsync();
                }
            }
        }

        /// <summary>
        /// A transfer connection, or null when it could not be opened while other workers can still carry the queue: this
        /// worker then retires, and no further ones are opened. That is a server at its limit: it refuses a connection
        /// as busy (too many from this address, or in all), or closes one still in its handshake to make room for a
        /// newer one. Whatever else stops one connection stops the others too, and the last worker cannot retire: its
        /// failure stops the attempt, as any failure does.
        /// </summary>
        private async Task<FileXferClient?> ConnectOrRetireAsync()
        {
            try
            {
                return await ConnectUnlessDrainedAsync();
            }
            catch (Exception ex) when (ExtraConnections.IsRefusal(ex, Token) && TryRetire())
            {
                return null;
            }
        }

        /// <summary>A transfer connection, authenticated, or null when every file was taken from the queue before it was up (<see cref="ExtraConnections.ConnectUnlessDrainedAsync"/>).</summary>
        private Task<FileXferClient?> ConnectUnlessDrainedAsync() =>
            ExtraConnections.ConnectUnlessDrainedAsync(ConnectAuthenticatedAsync, Transfers.Reader.Completion, Token);

        /// <summary>
        /// A transfer connection with its authentication settled: a refusal shows here, where a worker may retire, and not
        /// as the failure of its first batch. The Ok comes while the walk finds the first files, so this costs no time.
        /// </summary>
        private async Task<FileXferClient> ConnectAuthenticatedAsync(CancellationToken cancellationToken)
        {
            var client = await owner._connect(cancellationToken);
            try
            {
                await client.WhenAuthenticatedAsync(cancellationToken);
                return client;
            }
            catch
            {
                await client.DisposeAsync();
                throw;
            }
        }

        private bool TryRetire()
        {
            lock (_workers)
            {
                if (_live <= 1)
                {
                    return false;
                }

                _live--;
                _connections = Math.Min(_connections, _workers.Count);
                return true;
            }
        }

        /// <summary>A worker is done with the queue: it no longer counts among those that carry it.</summary>
        private void Leave()
        {
            lock (_workers)
            {
                _live--;
            }
        }

        /// <summary>True when a file is queued (or the queue completed) within <paramref name="wait"/>.</summary>
        private async Task<bool> FirstFileWithinAsync(TimeSpan wait)
        {
            using var timer = new CancellationTokenSource(wait, owner._options.TimeProvider);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(Token, timer.Token);
            try
            {
                await Transfers.Reader.WaitToReadAsync(either.Token);
                return true;
            }
            catch (OperationCanceledException) when (timer.IsCancellationRequested && !Token.IsCancellationRequested)
            {
                return false;
            }
        }

        private async Task RunWorkerAsync(Func<FileXferClient, ChannelReader<QueuedTransfer>, Task> work)
        {
            try
            {
                await using var client = await ConnectOrRetireAsync();
                if (client is null)
                {
                    return;
                }

                await work(client, Transfers.Reader);
                Leave();
            }
            catch
            {
                // The queue's producer must not wait for a worker that is gone: the attempt stops.
                await stop.CancelAsync();
                throw;
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
