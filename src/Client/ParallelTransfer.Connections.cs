using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client;

public static partial class ParallelTransfer
{
    /// <summary>
    /// Runs <paramref name="work"/> on <paramref name="client"/>. The first failure stops the attempt's other connections
    /// (<see cref="Attempt"/>), so the attempt fails as one.
    /// </summary>
    private static async Task<T> OnConnectionAsync<T>(FileXferClient client, Func<FileXferClient, Task<T>> work, Attempt attempt)
    {
        try
        {
            return await work(client);
        }
        catch (Exception ex)
        {
            await attempt.FailAsync(ex);
            throw;
        }
    }

    /// <summary>
    /// One attempt's connections: the first failure cancels the others and is the one the attempt reports (the
    /// others then fail only because they were stopped), so retries classify the real cause.
    /// </summary>
    private sealed class Attempt(CancellationToken cancellationToken) : IDisposable
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        private Exception? _first;

        public CancellationToken Token => _stop.Token;

        public Task FailAsync(Exception ex)
        {
            Interlocked.CompareExchange(ref _first, ex, null);
            return _stop.CancelAsync();
        }

        public async Task WhenAllAsync(IEnumerable<Task> tasks)
        {
            try
            {
                await Task.WhenAll(tasks);
            }
            catch (Exception) when (_first is { } first && !cancellationToken.IsCancellationRequested)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            }
        }

        public void Dispose() => _stop.Dispose();
    }

    /// <summary>
    /// The connections an attempt opens beside its first one, possibly before it knows it needs them: each starts
    /// connecting when it is opened and is given work once the transfer is planned. One the plan does not need, or that
    /// is still connecting when nothing is left for it to carry (<see cref="ExtraConnections.ConnectUnlessDrainedAsync"/>),
    /// is given up; one the server refuses (<see cref="ExtraConnections.IsRefusal"/>) leaves its work to the others; none
    /// is left open when the attempt ends.
    /// </summary>
    private sealed class Extras(Func<CancellationToken, Task<FileXferClient>> connect, Attempt attempt) : IAsyncDisposable
    {
        private readonly List<Extra> _pool = [];
        private readonly List<Extra> _all = [];
        private readonly List<Task> _runs = [];
        private bool _disposed;

        /// <summary>Starts opening connections for the ranges until <paramref name="count"/> are open or being opened.</summary>
        public void OpenUpTo(int count)
        {
            while (_pool.Count < count)
            {
                _pool.Add(Open());
            }
        }

        /// <summary>
        /// Keeps <paramref name="count"/> connections for the ranges (opening those not yet opened), each given up once
        /// <paramref name="drained"/> completes before it is up, and gives up the others.
        /// </summary>
        public List<Extra> Keep(int count, Task drained)
        {
            OpenUpTo(count);
            foreach (var extra in _pool.Skip(count))
            {
                extra.GiveUp();
            }

            var kept = _pool.Take(count).ToList();
            foreach (var extra in kept)
            {
                extra.GiveUpWhen(drained);
            }

            return kept;
        }

        /// <summary>Opens one more connection, for work of its own (not the ranges'): it is needed however the ranges go.</summary>
        public Extra OpenAside() => Open();

        /// <summary>
        /// Runs <paramref name="work"/> on <paramref name="extra"/> once it is up, and closes it after. The default of
        /// <typeparamref name="T"/> when it was given up or refused: its work is left to the others. Any other failure stops the attempt.
        /// </summary>
        public Task<T?> RunAsync<T>(Extra extra, Func<FileXferClient, Task<T>> work)
        {
            extra.Taken = true;
            var run = RunOnAsync(extra, work);
            _runs.Add(run);
            return run;
        }

        private async Task<T?> RunOnAsync<T>(Extra extra, Func<FileXferClient, Task<T>> work)
        {
            FileXferClient? client;
            try
            {
                client = await extra.Opening;
            }
            catch (Exception ex) when (ExtraConnections.IsRefusal(ex, attempt.Token))
            {
                return default;
            }
            catch (Exception ex)
            {
                await attempt.FailAsync(ex);
                throw;
            }

            if (client is null)
            {
                return default;
            }

            await using (client)
            {
                return await OnConnectionAsync(client, work, attempt);
            }
        }

        /// <summary>
        /// Gives up every connection no work took, and closes those that came up; waits for them all, and for the work
        /// on the others (which a failed attempt has stopped), so none outlives the transfer.
        /// </summary>
        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var extra in _all)
            {
                extra.GiveUp();
            }

            foreach (var extra in _all.Where(e => !e.Taken))
            {
                try
                {
                    if (await extra.Opening is { } unused)
                    {
                        await unused.DisposeAsync();
                    }
                }
                catch (Exception)
                {
                    // Opened ahead and not needed: its failure is nobody's.
                }
            }

            try
            {
                await Task.WhenAll(_runs);
            }
            catch (Exception)
            {
                // Each failure was the attempt's (Attempt.FailAsync), which raised the first.
            }
        }

        private Extra Open()
        {
            var extra = new Extra();
            extra.Opening = ExtraConnections.ConnectUnlessDrainedAsync(connect, extra.GivenUp, attempt.Token);
            _all.Add(extra);
            return extra;
        }
    }

    /// <summary>One connection of <see cref="Extras"/>: being opened, or open, or given up.</summary>
    private sealed class Extra
    {
        private readonly TaskCompletionSource _givenUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The connection, or null when it was given up before it was up.</summary>
        public Task<FileXferClient?> Opening { get; set; } = Task.FromResult<FileXferClient?>(null);

        /// <summary>Completes when the connection is no longer needed.</summary>
        public Task GivenUp => _givenUp.Task;

        /// <summary>True once work took it (and closes it).</summary>
        public bool Taken { get; set; }

        public void GiveUp() => _givenUp.TrySetResult();

        public void GiveUpWhen(Task drained) => drained.ContinueWith(_ => GiveUp(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static async Task<byte[]> HashRangeAsync(SafeFileHandle handle, FileRange range, string algorithm, CancellationToken cancellationToken)
    {
        await using var part = new FilePart(handle, range);
        return await LocalHasher.HashStreamAsync(part, algorithm, cancellationToken);
    }
}
