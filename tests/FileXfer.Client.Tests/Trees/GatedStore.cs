using FileXfer.Protocol.Framing;
using FileXfer.Server.Storage;

namespace FileXfer.Client.Tests.Trees;

/// <summary>
/// A store that holds every file read (a Get's, a Hash's) until reads are waiting on <see cref="Sessions"/> different
/// connections at once: a server over it can answer a read only when that many connections read concurrently, so a test
/// proves that work was spread over them without measuring time. <see cref="BeforeFirstRead"/> runs once, when the
/// first read arrives (the listings it follows are done).
/// </summary>
internal sealed class GatedStore(IStore inner, int sessions) : IStore
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<Session> _reading = [];
    private Action? _beforeFirstRead;

    /// <summary>How many connections must read at once before any read is answered.</summary>
    public int Sessions { get; } = sessions;

    /// <summary>Runs once, at the first read, before it is held.</summary>
    public Action? BeforeFirstRead
    {
        get => _beforeFirstRead;
        set => _beforeFirstRead = value;
    }

    /// <summary>Completed once reads waited on <see cref="Sessions"/> connections at once.</summary>
    public Task Opened => _open.Task;

    public long MaxFileSize => inner.MaxFileSize;

    public IStoreSession OpenSession(string subtree) => new Session(this, inner.OpenSession(subtree));

    private async ValueTask WaitAsync(Session session, CancellationToken cancellationToken)
    {
        lock (_reading)
        {
            if (_reading.Count == 0)
            {
                Interlocked.Exchange(ref _beforeFirstRead, null)?.Invoke();
            }

            if (_reading.Add(session) && _reading.Count >= Sessions)
            {
                _open.TrySetResult();
            }
        }

        await _open.Task.WaitAsync(cancellationToken);
    }

    private sealed class Session(GatedStore gate, IStoreSession inner) : IStoreSession
    {
        public long MaxFileSize => inner.MaxFileSize;

        public bool IsAbandoned => inner.IsAbandoned;

        public bool SetsParentTimes => inner.SetsParentTimes;

        public ValueTask JoinRunAsync(string scope, RunTicket ticket, CancellationToken cancellationToken) => inner.JoinRunAsync(scope, ticket, cancellationToken);

        public ValueTask<RemoteEntry> StatAsync(string path, CancellationToken cancellationToken) => inner.StatAsync(path, cancellationToken);

        public IAsyncEnumerable<ListedEntry> ListAsync(string path, bool recursive, CancellationToken cancellationToken) => inner.ListAsync(path, recursive, cancellationToken);

        public ValueTask<MadeDirectory> MakeDirectoryAsync(string path, DateTimeOffset? modified, int? mode, DateTimeOffset? parentModified, CancellationToken cancellationToken) =>
            inner.MakeDirectoryAsync(path, modified, mode, parentModified, cancellationToken);

        public ValueTask<RemoteEntry> DeleteAsync(string path, CancellationToken cancellationToken) => inner.DeleteAsync(path, cancellationToken);

        public async ValueTask<IStoredFile> OpenReadAsync(string path, CancellationToken cancellationToken)
        {
            await gate.WaitAsync(this, cancellationToken);
            return await inner.OpenReadAsync(path, cancellationToken);
        }

        public Task TakeOverResumeKeyAsync(byte[] resumeKey, string path, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken) =>
            inner.TakeOverResumeKeyAsync(resumeKey, path, wait, timeProvider, cancellationToken);

        public ValueTask<IUpload> BeginUploadAsync(UploadStart start, CancellationToken cancellationToken) => inner.BeginUploadAsync(start, cancellationToken);

        public ValueTask<IReadOnlyList<Protocol.FileXferException?>> CommitAsync(IReadOnlyList<IUpload> uploads, CancellationToken cancellationToken) =>
            inner.CommitAsync(uploads, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
