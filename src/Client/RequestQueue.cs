using System.Threading.Channels;

namespace FileXfer.Client;

/// <summary>
/// Small requests (listings, hashes, directory changes, deletions) pipelined over one connection: each call queues
/// its request and returns the task of its answer at once, so many directories are listed, or files hashed, with no
/// round trip each. The queue holds the connection until <see cref="CompleteAsync"/>. An item's own failure (the
/// server's Error for it) faults only its task; a failure of the connection faults every unanswered one.
/// </summary>
public sealed class RequestQueue : IAsyncDisposable
{
    private readonly Channel<QueuedRequest> _queue = Channel.CreateUnbounded<QueuedRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<QueuedRequest> _unanswered = [];
    private readonly Task _running;
    private readonly string _algorithm;
    private Exception? _failure;

    internal RequestQueue(string hashAlgorithm, Func<IAsyncEnumerable<QueuedRequest>, Task> run)
    {
        _algorithm = hashAlgorithm;
        _running = RunAsync(run);
    }

    /// <summary>Lists one directory (see <see cref="FileXferClient.ListAsync"/>).</summary>
    public Task<DirectoryListing> ListAsync(string remotePath) => Enqueue(new FileXferClient.ListRequest(remotePath));

    /// <summary>Describes one path (see <see cref="FileXferClient.StatAsync"/>); the server's Error is the task's exception.</summary>
    public Task<RemoteEntry> StatAsync(string remotePath) => Enqueue(new FileXferClient.StatRequest(remotePath));

    /// <summary>Has the server hash one file with the connection's algorithm; a failure is the result's error.</summary>
    public Task<BatchItemResult> HashAsync(string remotePath) => Enqueue(new FileXferClient.HashRequest(remotePath, _algorithm));

    /// <summary>Creates a directory with its parents, or sets its time and mode; a failure is the result's error.</summary>
    public Task<BatchItemResult> MakeDirectoryAsync(RemoteEntry directory) => Enqueue(new FileXferClient.MakeDirectoryRequest(directory, null));

    /// <summary>
    /// Creates a directory with its parents, or sets the time and mode of an existing one; then its parent directory is
    /// given <paramref name="parentModified"/> (ParentMTime: only to a server with <see cref="Capabilities.DirectoryTimes"/>).
    /// A failure is the result's error.
    /// </summary>
    public Task<BatchItemResult> MakeDirectoryAsync(RemoteEntry directory, DateTimeOffset parentModified) => Enqueue(new FileXferClient.MakeDirectoryRequest(directory, parentModified));

    /// <summary>Creates a directory with its parents, its time and mode left as made; a failure is the result's error.</summary>
    public Task<BatchItemResult> MakeDirectoryAsync(string remotePath) => Enqueue(new FileXferClient.CreateDirectoryRequest(remotePath));

    /// <summary>Deletes a file or an empty directory; a failure is the result's error.</summary>
    public Task<BatchItemResult> DeleteAsync(string remotePath) => Enqueue(new FileXferClient.DeleteRequest(remotePath));

    /// <summary>Takes no more requests and waits for the answers of those queued.</summary>
    /// <exception cref="Exception">The connection failed: its failure.</exception>
    public async Task CompleteAsync()
    {
        _queue.Writer.TryComplete();
        await _running;
    }

    /// <summary>Takes no more requests and waits for the queue to stop; a failure was already given to the tasks.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _running;
        }
        catch (Exception)
        {
            // Every unanswered request was faulted with this failure; whoever awaits them sees it.
        }
    }

    private Task<T> Enqueue<T>(FileXferClient.QueuedRequest<T> request)
    {
        lock (_unanswered)
        {
            if (_failure is not null)
            {
                return Task.FromException<T>(_failure);
            }

            _unanswered.Add(request);
        }

        request.Answered += Forget;
        if (!_queue.Writer.TryWrite(request))
        {
            request.Fail(new InvalidOperationException("the request queue was completed"));
        }

        return request.Task;
    }

    private void Forget(QueuedRequest request)
    {
        lock (_unanswered)
        {
            _unanswered.Remove(request);
        }
    }

    private async Task RunAsync(Func<IAsyncEnumerable<QueuedRequest>, Task> run)
    {
        try
        {
            await run(_queue.Reader.ReadAllAsync());
        }
        catch (Exception ex)
        {
            QueuedRequest[] left;
            lock (_unanswered)
            {
                _failure = ex;
                left = [.. _unanswered];
                _unanswered.Clear();
            }

            _queue.Writer.TryComplete();
            foreach (var request in left)
            {
                request.Fail(ex);
            }

            while (_queue.Reader.TryRead(out var request))
            {
                request.Fail(ex);
            }

            throw;
        }
    }
}
