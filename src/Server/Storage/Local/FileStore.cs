namespace FileXfer.Server.Storage.Local;

/// <summary>
/// The local store: files under one root directory on a POSIX file system, every remote path confined to the root
/// (<see cref="StoreRoot"/>), uploads written to temp files (<see cref="StagingArea"/>) and given their names only
/// when complete, verified and durable (<see cref="GroupCommit"/>, <see cref="UploadPublisher"/>).
/// </summary>
/// <remarks>
/// Confinement is checked component by component: a symbolic link on the way is followed only when its
/// real target stays inside the root and outside the reserved folder. On Linux the operations themselves are
/// checked again after the fact, so a link swapped in between the check and the use is not followed out of the
/// root: a file is opened and then located through <c>/proc/self/fd</c>; a rename, delete, listing or mkdir
/// goes through a handle of its directory that was opened and located first. What remains is a read of
/// metadata (stat) through a swapped link, and a FIFO swapped in after the check blocking one connection.
/// </remarks>
public sealed partial class FileStore : IStore
{
    /// <summary>The top-level name reserved for the server's own files; clients cannot name or list it.</summary>
    public const string ReservedName = ".filexfer";

    // Shared by the server's store and every subtree view of it.
    private readonly StagingArea _staging;
    private readonly FreeSpace _freeSpace;
    private readonly RangedUploads _ranged;

    // This view's own: its root, its listings, how its uploads get their names.
    private readonly StoreRoot _root;
    private readonly Lister _lister;
    private readonly UploadPublisher _publisher;

    // The normalized path of this store's root below the server's root: empty, or a token's subtree.
    private readonly string _subtree;

    /// <summary>
    /// Serves <paramref name="root"/>, which must exist and be the server's user's alone; makes the server's own
    /// folder and staging area in it.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The root does not exist.</exception>
    /// <exception cref="UnsafeDirectoryException">The root or the server's folder can be changed by another user.</exception>
    public FileStore(string root, FileStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"root directory '{full}' does not exist");
        }

        Root = Posix.RealPath(full) ?? full;
        Options = options ?? new FileStoreOptions();
        RootSafety.CheckNotWritableByOthers(Root);
        RootSafety.CheckOwnedByServer(Root);
        RootSafety.CreatePrivateDirectory(Path.Combine(Root, ReservedName));
        _staging = new StagingArea(Path.Combine(Root, ReservedName, "staging"), Options.TimeProvider);
        _freeSpace = new FreeSpace(Root, Options.ReserveBytes, Options.TimeProvider);
        _ranged = new RangedUploads(_staging, Options.TimeProvider);
        Fence = new RunFence(Options.TimeProvider) { Keep = Options.PartialMaxAge };
        _subtree = string.Empty;
        (_root, _lister, _publisher) = Rooms(Root, Path.Combine(Root, ReservedName));
    }

    private FileStore(FileStore parent, string root, string subtree)
    {
        Root = root;
        Options = parent.Options;
        _staging = parent._staging;
        _freeSpace = parent._freeSpace;
        _ranged = parent._ranged;
        Fence = parent.Fence;
        _subtree = subtree;
        (_root, _lister, _publisher) = Rooms(root, parent._root.ReservedPath);
    }

    private (StoreRoot, Lister, UploadPublisher) Rooms(string root, string reservedPath)
    {
        var confined = new StoreRoot(root, reservedPath);
        return (confined, new Lister(confined, Options.MaxListEntries), new UploadPublisher(confined, _staging));
    }

    /// <summary>
    /// A view of this store whose root is <paramref name="subtree"/> (a remote path below this root, created when
    /// missing): every path of the view resolves inside the subtree, with the same confinement rules as the root
    /// (no <c>..</c>, no symbolic link leading out of the subtree). The staging area stays this store's own.
    /// </summary>
    /// <exception cref="FileXferException">The subtree is not a valid path, or cannot be created inside the root.</exception>
    public FileStore ForSubtree(string subtree)
    {
        var normalized = RemotePath.Normalize(subtree);
        if (normalized.Length == 0)
        {
            return this;
        }

        _root.CreateDirectories(normalized);
        var real = Posix.RealPath(_root.Resolve(normalized));
        if (real is null || !_root.IsInsideRoot(real) || !Directory.Exists(real))
        {
            throw new FileXferException(ErrorCode.AccessDenied, $"subtree '{RemotePath.Escape(normalized)}' is not a directory inside the root");
        }

        return new FileStore(this, real, RemotePath.Combine(_subtree, normalized));
    }

    /// <summary>The real, absolute path of the root.</summary>
    public string Root { get; }

    /// <summary>Where uploads are written until they are complete.</summary>
    public string StagingDirectory => _staging.Directory;

    /// <summary>The store's settings.</summary>
    public FileStoreOptions Options { get; }

    /// <summary>The connections declared abandoned by their clients' later connections, shared by every subtree view.</summary>
    internal RunFence Fence { get; }

    /// <inheritdoc />
    public long MaxFileSize => Options.MaxFileSize;

    /// <inheritdoc />
    public IStoreSession OpenSession(string subtree) => new FileStoreSession(ForSubtree(subtree));

    /// <summary>
    /// Test seam: runs with the normalized path after it was checked and before the file system is touched for
    /// it, where a hostile local user could swap a component for a symbolic link.
    /// </summary>
    internal Action<string>? BeforeUse
    {
        get => _root.BeforeUse;
        set => _root.BeforeUse = value;
    }

    /// <summary>
    /// Removes temp files left by a crash, partials untouched for longer than <see cref="FileStoreOptions.PartialMaxAge"/>,
    /// and ranged uploads no connection used for that long, with their partial files (see
    /// <see cref="StagingArea.RemoveStaleUploads"/>). Returns how many were removed. A sweep cancelled before it starts
    /// removes nothing.
    /// </summary>
    public async Task<int> RemoveStaleUploadsAsync(CancellationToken cancellationToken)
    {
        var maxAge = Options.PartialMaxAge;
        int removed = await _ranged.RemoveStaleAsync(Options.TimeProvider.GetUtcNow() - maxAge, cancellationToken);
        return removed + _staging.RemoveStaleUploads(maxAge);
    }

    /// <summary>Whether a real path is inside this store's root.</summary>
    internal bool IsInsideRoot(string realPath) => _root.IsInsideRoot(realPath);

    /// <summary>Where a normalized remote path is on disk (see <see cref="StoreRoot.Resolve"/>).</summary>
    internal string Resolve(string normalized) => _root.Resolve(normalized);
}
