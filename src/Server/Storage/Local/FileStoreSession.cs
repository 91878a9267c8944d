
namespace FileXfer.Server.Storage.Local;

/// <summary>
/// One connection's session on a <see cref="FileStore"/>: the store's operations, plus the directories this
/// connection has put files into, held open and located (Linux), so the next file of one costs no walk.
/// </summary>
internal sealed class FileStoreSession(FileStore store) : IStoreSession, IRangedUploads
{
    // Created at the first upload: a connection that only reads keeps no directory open.
    private DirectoryHandles? _directories;

    // This connection's place in its client's run.
    private readonly RunMember _run = new(store.Fence);

    public long MaxFileSize => store.Options.MaxFileSize;

    public bool IsAbandoned => _run.IsAbandoned;

    public ValueTask JoinRunAsync(string scope, RunTicket ticket, CancellationToken cancellationToken)
    {
        _run.Join(scope, ticket);
        return ValueTask.CompletedTask;
    }

    public ValueTask<RemoteEntry> StatAsync(string path, CancellationToken cancellationToken) =>
        ValueTask.FromResult(store.Stat(path));

    // A bad path fails before any entry: List reads the names now, ListTree at the first MoveNextAsync.
    public IAsyncEnumerable<ListedEntry> ListAsync(string path, bool recursive, CancellationToken cancellationToken) =>
        (recursive ? store.ListTree(path) : store.List(path)).ToAsyncEnumerable();

    public bool SetsParentTimes => true;

    public ValueTask<MadeDirectory> MakeDirectoryAsync(string path, DateTimeOffset? modified, int? mode, DateTimeOffset? parentModified, CancellationToken cancellationToken) =>
        ValueTask.FromResult(store.MakeDirectory(path, modified, mode, parentModified));

    public ValueTask<RemoteEntry> DeleteAsync(string path, CancellationToken cancellationToken) =>
        ValueTask.FromResult(store.Delete(path));

    public ValueTask<IStoredFile> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        var file = store.OpenRead(path, out var entry);
        return ValueTask.FromResult<IStoredFile>(new LocalStoredFile(file, entry));
    }

    public Task TakeOverResumeKeyAsync(byte[] resumeKey, string path, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken) =>
        store.TakeOverResumeKeyAsync(resumeKey, path, wait, timeProvider, cancellationToken);

    public ValueTask<IUpload> BeginUploadAsync(UploadStart start, CancellationToken cancellationToken)
    {
        if (_directories is null && Posix.CanLocateHandles)
        {
            _directories = new DirectoryHandles();
        }

        return ValueTask.FromResult<IUpload>(store.BeginUpload(start.Path, start.DeclaredSize, start.SizeHint, start.ResumeKey, _directories, deferCheck: start.BodyFollows));
    }

    public async ValueTask<IRangeUpload> BeginRangeAsync(RangeStart start, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken) =>
        await store.BeginRangeAsync(start, wait, timeProvider, cancellationToken);

    public async ValueTask<(IUpload Upload, byte[] Hash)> AssembleAsync(RangeStart start, CancellationToken cancellationToken)
    {
        var (upload, hash) = await store.AssembleAsync(start, cancellationToken);
        return (upload, hash);
    }

    public ValueTask<IReadOnlyList<FileXferException?>> CommitAsync(IReadOnlyList<IUpload> uploads, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploads);
        var local = new PendingUpload[uploads.Count];
        for (int i = 0; i < local.Length; i++)
        {
            local[i] = uploads[i] as PendingUpload ?? throw new ArgumentException("an upload of another store", nameof(uploads));
        }

        return GroupCommit.CommitAsync(local, store.Options.SyncPolicy, _run);
    }

    public ValueTask DisposeAsync()
    {
        _directories?.Dispose();
        return ValueTask.CompletedTask;
    }
}
