using System.Threading.Channels;

namespace FileXfer.Client.Sync;

public sealed partial class TreeTransfer
{
    /// <summary>
    /// The attempt's transfer connections: when they open (one per queued file up to the limit, ahead of the walk, or
    /// all of a long link's at once), which may retire when the server refuses them, and the worker loops that carry the
    /// queue over them.
    /// </summary>
    private sealed partial class Attempt
    {
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
        /// following them, and files start at the first round trip the walk finds them in
        /// (docs/performance/issue-17-wan-bed.md, "Latency-aware trees"). A connection that gets no file within
        /// <see cref="TreeTransferOptions.SpeculativeIdle"/> is given back (an incremental run that finds nothing to send
        /// keeps no idle connections) and opened again when a file comes.
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
            ExtraConnections.ConnectUnlessDrainedAsync(token => ExtraConnections.ConnectAuthenticatedAsync(owner._connect, token), Transfers.Reader.Completion, Token);

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
    }
}
