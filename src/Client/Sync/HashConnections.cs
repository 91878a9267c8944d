using System.Threading.Channels;

namespace FileXfer.Client.Sync;

/// <summary>
/// The server's hashes of a tree's files (<c>verify -r</c>), spread over connections of their own. A server serves one
/// connection's requests one after another, so one connection hashes one file at a time on one of its cores: the
/// hashes go over several connections, each taking the next file when it has room (at most
/// <see cref="FileXferClient.PipelineWindow"/> unanswered each), while the listing connection keeps listing. It
/// carries hashes itself only when it is alone: no way to open others was given, or the server refused every one
/// (<see cref="ExtraConnections"/>: a busy server's refusal leaves the work to the others). A connection that
/// fails gives its unanswered hashes back to the queue and is replaced by a new one; a hash that met
/// <see cref="MaxTries"/> failed connections is answered with that failure (never with a hash).
/// </summary>
internal sealed class HashConnections : IAsyncDisposable
{
    /// <summary>How many connections a hash may be sent on before the last one's failure is its answer.</summary>
    public const int MaxTries = 3;

    private readonly Channel<PendingHash> _queue = Channel.CreateUnbounded<PendingHash>();
    private readonly RequestQueue _listing;
    private readonly Func<CancellationToken, Task<FileXferClient>>? _connect;
    private readonly CancellationTokenSource _stop;
    private readonly List<Task> _workers = [];

    // Hashes asked for and not yet answered (queued or sent): the queue completes when none is left and no more come.
    private int _unanswered;
    private bool _noMore;
    private bool _listingCarries;
    private bool _stopped;

    // Workers over connections of their own that may still carry hashes.
    private int _live;
    private Exception? _failure;

    /// <summary>
    /// Starts <paramref name="connections"/> connections through <paramref name="connect"/> (none when it is null, or
    /// <paramref name="connections"/> is 0: then <paramref name="listing"/> carries every hash).
    /// </summary>
    public HashConnections(RequestQueue listing, Func<CancellationToken, Task<FileXferClient>>? connect, int connections, CancellationToken cancellationToken)
    {
        _listing = listing;
        _connect = connect;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Connections = connect is null ? 0 : Math.Max(0, connections);
        lock (_workers)
        {
            if (Connections == 0)
            {
                StartListingWorker();
            }

            for (int i = 0; i < Connections; i++)
            {
                _live++;
                _workers.Add(RunWorkerAsync());
            }
        }
    }

    /// <summary>The connections asked for beside the listing one (0: the listing connection carries the hashes).</summary>
    public int Connections { get; }

    /// <summary>How many hashes may be asked for at once so that every connection has a full window.</summary>
    public int Window => Math.Max(1, Connections) * FileXferClient.PipelineWindow * 2;

    private CancellationToken Token => _stop.Token;

    /// <summary>Queues the server's hash of one file; a refusal of it (NotFound, say) is the result's error.</summary>
    public Task<BatchItemResult> HashAsync(string remotePath)
    {
        var pending = new PendingHash(remotePath);
        lock (_workers)
        {
            if (_stopped || _noMore)
            {
                pending.Fail(_failure ?? new InvalidOperationException("the hash queue was completed"));
                return pending.Task;
            }

            _unanswered++;
        }

        _queue.Writer.TryWrite(pending);
        return pending.Task;
    }

    /// <summary>No more hashes will be asked for: waits until every one is answered and the connections are closed.</summary>
    /// <exception cref="Exception">A connection failed in a way that stopped them all: its failure.</exception>
    public async Task CompleteAsync()
    {
        lock (_workers)
        {
            _noMore = true;
            CompleteWhenAnswered();
        }

        await Task.WhenAll(Running());
        if (Volatile.Read(ref _failure) is { } failure)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>Stops: every connection is closed, and every hash not answered yet is failed.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_workers)
        {
            _stopped = true;
        }

        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(Running());
        }
        catch (Exception)
        {
            // Stopped with the verification, whose own failure (or cancellation) is the one raised.
        }

        var stopped = new OperationCanceledException("the verification stopped");
        while (_queue.Reader.TryRead(out var left))
        {
            left.Fail(_failure ?? stopped);
        }

        _queue.Writer.TryComplete();
        _stop.Dispose();
    }

    private Task[] Running()
    {
        lock (_workers)
        {
            return [.. _workers];
        }
    }

    /// <summary>Under the lock: once no more hashes come and all are answered, the workers stop.</summary>
    private void CompleteWhenAnswered()
    {
        if (_noMore && _unanswered == 0)
        {
            _queue.Writer.TryComplete();
        }
    }

    private void Answered(PendingHash pending, BatchItemResult result)
    {
        pending.Answer(result);
        lock (_workers)
        {
            _unanswered--;
            CompleteWhenAnswered();
        }
    }

    /// <summary>A hash sent on a connection that failed: queued again for another, or answered with the failure after <see cref="MaxTries"/>.</summary>
    private void SentOnFailedConnection(PendingHash pending, Exception error)
    {
        bool again;
        lock (_workers)
        {
            again = !_stopped && ++pending.Tries < MaxTries;
        }

        if (again && _queue.Writer.TryWrite(pending))
        {
            return;
        }

        Answered(pending, new BatchItemResult(pending.RemotePath, null, 0, string.Empty, null, error));
    }

    /// <summary>One connection of its own: opened, carrying hashes until none is left, replaced when it fails.</summary>
    private async Task RunWorkerAsync()
    {
        // Not under the constructor's lock.
        await Task.Yield();
        bool first = true;
        try
        {
            // Opened at once (a tree to verify has files to hash), and opened again after a failure once there is work.
            while (first || await _queue.Reader.WaitToReadAsync(Token))
            {
                first = false;
                FileXferClient? client;
                try
                {
                    client = await ExtraConnections.ConnectUnlessDrainedAsync(token => ExtraConnections.ConnectAuthenticatedAsync(_connect!, token), _queue.Reader.Completion, Token);
                }
                catch (Exception ex) when (ExtraConnections.IsRefusal(ex, Token))
                {
                    // A busy server, or one gone: the other connections (or the listing one) carry the hashes.
                    Retire();
                    return;
                }

                if (client is null)
                {
                    // Every hash was answered before it was up.
                    Retire();
                    return;
                }

                await using (client)
                {
                    var requests = client.StartRequestQueue(Token);
                    await using (requests)
                    {
                        if (await CarryAsync(requests, giveBack: true) is null)
                        {
                            // Every hash was answered: a failure of the connection now loses nothing.
                            Retire();
                            return;
                        }
                    }
                }
            }

            Retire();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !Token.IsCancellationRequested)
        {
            Fail(ex);
            throw;
        }
    }

    /// <summary>
    /// Sends hashes from the queue over <paramref name="requests"/>, at most <see cref="FileXferClient.PipelineWindow"/>
    /// unanswered at once, until every hash is answered (null) or the connection failed (its failure). The hashes sent
    /// on a failed connection are queued again (<paramref name="giveBack"/>) or failed with it (the listing connection's:
    /// the verification fails, and is retried as a whole).
    /// </summary>
    private async Task<Exception?> CarryAsync(RequestQueue requests, bool giveBack)
    {
        using var room = new SemaphoreSlim(FileXferClient.PipelineWindow);
        Exception? broken = null;
        var sent = new List<Task>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(Token))
            {
                await room.WaitAsync(Token);
                if (Volatile.Read(ref broken) is not null)
                {
                    room.Release();
                    break;
                }

                if (!_queue.Reader.TryRead(out var pending))
                {
                    room.Release();
                    continue;
                }

                var answer = requests.HashAsync(pending.RemotePath);
                if (answer.IsFaulted && giveBack)
                {
                    // The connection had failed before this hash was sent (while it waited idle, say): not a try.
                    Interlocked.CompareExchange(ref broken, answer.Exception.InnerException ?? answer.Exception, null);
                    _queue.Writer.TryWrite(pending);
                    room.Release();
                    break;
                }

                if (sent.Count >= FileXferClient.PipelineWindow * 2)
                {
                    // At most a window of them is unanswered: the answered ones are dropped now and then, not per hash.
                    sent.RemoveAll(task => task.IsCompleted);
                }

                sent.Add(AnswerAsync(pending, answer));
            }
        }
        finally
        {
            // Every answer handled (none raises) before the connection is closed, and before its room is.
            await Task.WhenAll(sent);
        }

        return Volatile.Read(ref broken);

        async Task AnswerAsync(PendingHash pending, Task<BatchItemResult> answer)
        {
            try
            {
                Answered(pending, await answer);
            }
            catch (Exception ex)
            {
                // Not this file's failure (that would be the result's error) but the connection's.
                Interlocked.CompareExchange(ref broken, ex, null);
                if (giveBack)
                {
                    SentOnFailedConnection(pending, ex);
                }
                else
                {
                    // The listing connection's failure is the attempt's: raised, not reported as the file's.
                    pending.Fail(ex);
                }
            }
            finally
            {
                room.Release();
            }
        }
    }

    /// <summary>A worker stops carrying hashes; when it was the last, the listing connection carries the rest.</summary>
    private void Retire()
    {
        lock (_workers)
        {
            if (--_live == 0 && !_stopped && !(_noMore && _unanswered == 0))
            {
                StartListingWorker();
            }
        }
    }

    /// <summary>Under the lock: the listing connection carries the hashes from now on (once).</summary>
    private void StartListingWorker()
    {
        if (_listingCarries)
        {
            return;
        }

        _listingCarries = true;
        _workers.Add(RunListingWorkerAsync());
    }

    private async Task RunListingWorkerAsync()
    {
        await Task.Yield();
        try
        {
            // A failure of the listing connection is the walk's too: every hash not answered yet is answered with it.
            if (await CarryAsync(_listing, giveBack: false) is { } failure)
            {
                Fail(failure);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !Token.IsCancellationRequested)
        {
            Fail(ex);
            throw;
        }
    }

    /// <summary>A worker failed in a way that stops the verification: every hash not answered yet gets its failure.</summary>
    private void Fail(Exception error)
    {
        Interlocked.CompareExchange(ref _failure, error, null);
        lock (_workers)
        {
            _stopped = true;
        }

        _stop.Cancel();
        while (_queue.Reader.TryRead(out var left))
        {
            left.Fail(error);
        }
    }

    /// <summary>One file's hash asked for, and on how many connections it was sent.</summary>
    private sealed class PendingHash(string remotePath)
    {
        private readonly TaskCompletionSource<BatchItemResult> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string RemotePath { get; } = remotePath;

        public int Tries { get; set; }

        public Task<BatchItemResult> Task => _answer.Task;

        public void Answer(BatchItemResult result) => _answer.TrySetResult(result);

        public void Fail(Exception error) => _answer.TrySetException(error);
    }
}
