using System.Security.Cryptography;
using System.Text;

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
public sealed class FileStore : IStore
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

    /// <summary>Removes temp files left by a crash, and partials untouched for longer than <see cref="FileStoreOptions.PartialMaxAge"/>. Returns how many were removed.</summary>
    public int RemoveStaleUploads() => RemoveStaleUploads(Options.PartialMaxAge);

    /// <summary>
    /// Removes temp files left by a crash, partials untouched for longer than <paramref name="partialMaxAge"/>, and
    /// ranged uploads no connection used for that long (see <see cref="StagingArea.RemoveStaleUploads"/>).
    /// </summary>
    public int RemoveStaleUploads(TimeSpan partialMaxAge)
    {
        // A ranged upload idle for that long has no connection and no read-back in progress: nothing to wait for.
        var ranged = _ranged.RemoveStaleAsync(Options.TimeProvider.GetUtcNow() - partialMaxAge);
        int removed = ranged.IsCompletedSuccessfully ? ranged.Result : ranged.GetAwaiter().GetResult();
        return removed + _staging.RemoveStaleUploads(partialMaxAge);
    }

    /// <summary>
    /// Starts or resumes one range of a ranged upload (<see cref="IRangedUploads.BeginRangeAsync"/>): the path, size and
    /// space are checked when the upload is new, the range always.
    /// </summary>
    internal async Task<RangeUpload> BeginRangeAsync(RangeStart start, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var normalized = RemotePath.Normalize(start.Path);
        if (normalized.Length == 0)
        {
            throw new FileXferException(ErrorCode.IsADirectory, "cannot put to the root directory itself");
        }

        if (start.TransferId.Length == 0)
        {
            throw new FileXferException(ErrorCode.BadRequest, "a ranged put needs a TransferId");
        }

        if (start.Size > Options.MaxFileSize)
        {
            throw new FileXferException(ErrorCode.TooLarge, $"file of {start.Size} bytes exceeds the server's limit of {Options.MaxFileSize}");
        }

        if (!start.Range.FitsIn(start.Size))
        {
            throw new FileXferException(ErrorCode.BadRequest, $"range {start.Range} is not a nonempty range within the file's {start.Size} bytes");
        }

        var name = RangedUploads.Name(start.TransferId, RemotePath.Combine(_subtree, normalized), start.Size, start.Algorithm);
        if (_ranged.Find(name) is not { } file)
        {
            CheckDestination(normalized);
            _freeSpace.Ensure(start.Size);
            file = _ranged.GetOrCreate(name, normalized, start.Size, start.Algorithm);
        }

        var slot = file.Slot(start.Range);
        var claim = new ResumeClaim();
        if (file.TryHold(slot, claim) is { } holder)
        {
            // A retry whose earlier connection the server has not seen die yet: that connection lets go of the range.
            await holder.RevokeAsync();
            try
            {
                await holder.Released.WaitAsync(wait, timeProvider, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Reported below: the range is still held.
            }

            if (file.TryHold(slot, claim) is not null)
            {
                throw new FileXferException(ErrorCode.Unavailable, $"range {start.Range} of '{RemotePath.Escape(normalized)}' is still being received on another connection; try again later");
            }
        }

        return new RangeUpload(file, slot, claim);
    }

    /// <summary>
    /// Ends a ranged upload (<see cref="IRangedUploads.AssembleAsync"/>): its ranges must cover the file. Returns the
    /// assembled file as an upload to seal and commit, and the whole-file hash.
    /// </summary>
    internal async Task<(PendingUpload Upload, byte[] Hash)> AssembleAsync(RangeStart start, CancellationToken cancellationToken)
    {
        var normalized = RemotePath.Normalize(start.Path);
        var name = RangedUploads.Name(start.TransferId, RemotePath.Combine(_subtree, normalized), start.Size, start.Algorithm);
        var file = _ranged.Find(name)
            ?? throw new FileXferException(ErrorCode.BadRequest, $"no ranges of this transfer of '{RemotePath.Escape(normalized)}' are held (the server restarted, or they were never sent)");
        byte[] hash;
        string destination;
        try
        {
            hash = await file.FinishAsync(cancellationToken);
            destination = CheckDestination(normalized);
        }
        catch (FileXferException) when (!file.Assembling)
        {
            // Missing ranges: the upload stays open for them.
            throw;
        }
        catch
        {
            _ranged.Remove(file);
            await file.DisposeAsync();
            throw;
        }

        _ranged.Remove(file);
        var (stream, release) = file.HandOver();
        await file.DisposeAsync();
        return (new PendingUpload(_publisher, normalized, destination, file.TempPath, stream, start.Size, release, directories: null, _staging.Device), hash);
    }

    /// <summary>Checks that a file may be put at <paramref name="normalized"/>, creating missing parents; returns where it goes.</summary>
    private string CheckDestination(string normalized)
    {
        var resolved = _root.ResolveWithState(normalized);
        if (resolved.IsDirectory)
        {
            throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(normalized)}' is a directory");
        }

        if (!resolved.ParentsExist)
        {
            _root.CreateParents(normalized);
        }

        return resolved.FullPath;
    }

    /// <summary>Lists a directory; see <see cref="Lister.List"/>.</summary>
    public IEnumerable<ListedEntry> List(string path) => _lister.List(path);

    /// <summary>Lists a tree; see <see cref="Lister.ListTree"/>.</summary>
    public IEnumerable<ListedEntry> ListTree(string path) => _lister.ListTree(path);

    /// <summary>Whether a real path is inside this store's root.</summary>
    internal bool IsInsideRoot(string realPath) => _root.IsInsideRoot(realPath);

    /// <summary>Where a normalized remote path is on disk (see <see cref="StoreRoot.Resolve"/>).</summary>
    internal string Resolve(string normalized) => _root.Resolve(normalized);

    /// <summary>
    /// Starts an upload of <paramref name="path"/>: checks the path and the free space, creates missing parent
    /// directories and a temp file. Its length may not be known yet: <paramref name="sizeHint"/> is checked against the
    /// free space, <paramref name="declaredSize"/> (when known) against the size limit and, at commit, the body. With a
    /// <paramref name="resumeKey"/> the temp file is the partial upload kept under that
    /// key (created when there is none), so an interrupted upload can continue where it stopped. A key still
    /// in use by another upload (see <see cref="TakeOverResumeKeyAsync"/>) gets a fresh, non-resumable temp file instead. With <paramref name="directories"/>
    /// (the connection's), the destination's directory is checked through a handle kept from an earlier file of it,
    /// and kept for the next. With <paramref name="deferCheck"/> (the body follows the request at once, as in a pipelined
    /// put), a destination in a kept directory is not looked at before its publish, which looks at it in any case: a
    /// directory there is then refused when the upload is published rather than before its body is read.
    /// </summary>
    public PendingUpload BeginUpload(string path, long? declaredSize, long sizeHint, byte[]? resumeKey = null, DirectoryHandles? directories = null, bool deferCheck = false)
    {
        long size = declaredSize ?? sizeHint;
        var normalized = RemotePath.Normalize(path);
        if (normalized.Length == 0)
        {
            throw new FileXferException(ErrorCode.IsADirectory, "cannot put to the root directory itself");
        }

        if (size > Options.MaxFileSize)
        {
            throw new FileXferException(ErrorCode.TooLarge, $"file of {size} bytes exceeds the server's limit of {Options.MaxFileSize}");
        }

        _freeSpace.Ensure(size);
        bool resumable = resumeKey is { Length: > 0 };
        if (!resumable && directories is not null
            && (deferCheck ? StoreRoot.TrySplit(normalized, out var directory, out _) && directories.Peek(directory) is not null : UploadPublisher.TryCheckInKeptDirectory(normalized, directories)))
        {
            return BeginTemp(normalized, Path.Combine(Root, normalized), declaredSize, directories);
        }

        var resolved = _root.ResolveWithState(normalized);
        var destination = resolved.FullPath;
        if (resolved.IsDirectory)
        {
            throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(normalized)}' is a directory");
        }

        if (!resolved.ParentsExist)
        {
            _root.CreateParents(normalized);
        }

        if (directories is not null)
        {
            _publisher.KeepParent(directories, normalized, destination, evict: true);
        }

        if (resumable)
        {
            var name = ResumeName(resumeKey!, normalized);
            var claim = new ResumeClaim();
            if (_staging.TryClaim(name, claim))
            {
                try
                {
                    var resumableTemp = _staging.ResumablePath(name);
                    var partial = StorageErrors.Wrap(normalized, () => InlineFileStream.OpenResumable(resumableTemp));
                    return new PendingUpload(_publisher, normalized, destination, resumableTemp, partial, declaredSize, () => _staging.Release(name, claim), directories, _staging.Device)
                    {
                        Revoked = claim.Revoked,
                    };
                }
                catch
                {
                    _staging.Release(name, claim);
                    throw;
                }
            }
        }

        return BeginTemp(normalized, destination, declaredSize, directories);
    }

    /// <summary>
    /// A fresh temp file for an upload to <paramref name="normalized"/>: unnamed in its destination's directory when that
    /// directory's handle is kept and its file system can make such files, else named in the staging area. An unnamed
    /// file is allocated where it will live (on ext4, near its directory, as a file written in place would be, rather
    /// than every upload's inode near the staging area) and leaves nothing behind if it is never published.
    /// </summary>
    private PendingUpload BeginTemp(string normalized, string destination, long? declaredSize, DirectoryHandles? directories)
    {
        if (directories is not null && StoreRoot.TrySplit(normalized, out var directory, out _) && directories.Peek(directory, out ulong device) is { } kept
            && Posix.TryCreateUnnamed(kept, out _) is { } unnamed)
        {
            return new PendingUpload(_publisher, normalized, destination, tempPath: null, InlineFileStream.FromHandle(unnamed, FileAccess.Write, length: 0), declaredSize, static () => { }, directories, device);
        }

        var stream = _staging.CreateTemp(normalized, out var tempPath, out var release);
        return new PendingUpload(_publisher, normalized, destination, tempPath, stream, declaredSize, release, directories, _staging.Device);
    }

    /// <summary>
    /// Takes the partial of this key and path over from another upload that still holds it: a client that reconnects
    /// after a stall or a vanished connection, before the server has noticed that the old connection is gone, should
    /// resume that partial rather than start over beside it. The holder is revoked (its upload is abandoned, see
    /// <see cref="PendingUpload.Revoked"/>) and this waits, at most <paramref name="timeout"/> on
    /// <paramref name="timeProvider"/>, until it has let go; the next <see cref="BeginUpload(string, long?, long, byte[], DirectoryHandles, bool)"/>
    /// with the key then gets the partial. A holder that does not let go in time (its upload is being committed) keeps
    /// it, and the new upload gets a fresh temp file.
    /// </summary>
    public async Task TakeOverResumeKeyAsync(byte[] resumeKey, string path, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resumeKey);
        if (resumeKey.Length == 0 || !RemotePath.TryNormalize(path, out var normalized, out _)
            || _staging.Holder(ResumeName(resumeKey, normalized)) is not { } holder)
        {
            return;
        }

        await holder.RevokeAsync();
        try
        {
            await holder.Released.WaitAsync(timeout, timeProvider, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Still held: this upload gets a fresh temp file and starts over.
        }
    }

    private string ResumeName(byte[] key, string normalized) =>
        // The key names the client's source and destination; hashing it with the destination (as a path below the
        // server's root, so two subtrees never share a partial) keeps clients from reaching each other's partials
        // by choosing keys.
        Convert.ToHexStringLower(SHA256.HashData([.. key, .. Encoding.UTF8.GetBytes(RemotePath.Combine(_subtree, normalized))]))[..32];

    /// <summary>Opens a stored file for reading.</summary>
    public InlineFileStream OpenRead(string path, out RemoteEntry entry)
    {
        var normalized = RemotePath.Normalize(path);
        if (TryOpenReadDirect(normalized, out entry) is { } direct)
        {
            return direct;
        }

        var full = _root.Resolve(normalized);
        entry = _root.Describe(normalized, full);
        if (entry.Kind == EntryKind.Directory)
        {
            throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(normalized)}' is a directory");
        }

        if (entry.Kind != EntryKind.File)
        {
            throw new FileXferException(ErrorCode.AccessDenied, $"'{RemotePath.Escape(normalized)}' is not a regular file");
        }

        BeforeUse?.Invoke(normalized);
        return StorageErrors.Wrap(normalized, () =>
        {
            var stream = InlineFileStream.OpenRead(full);
            if (Posix.CanLocateHandles && !_root.IsServable(Posix.LocationOf(stream.Handle)))
            {
                // A link swapped in after the check: what was opened is not ours to serve.
                stream.Dispose();
                throw StorageErrors.LeadsOutside(normalized);
            }

            return stream;
        });
    }

    /// <summary>
    /// The common case of <see cref="OpenRead"/> in three calls: a regular file below 1 MiB whose last component is not a
    /// link is opened without following one and without blocking on a FIFO, examined through its handle and located
    /// (<c>/proc/self/fd</c>), which must be inside the served tree. Null when the full walk must decide: a link as the
    /// last component, not a regular file, large enough to be sent with its stored hash, or an open that failed (its error then
    /// comes from the walk).
    /// </summary>
    /// <exception cref="FileXferException">The file was reached through a link that leads outside the root.</exception>
    private InlineFileStream? TryOpenReadDirect(string normalized, out RemoteEntry entry)
    {
        entry = null!;
        BeforeUse?.Invoke(normalized);
        if (!Posix.CanLocateHandles || normalized.Length == 0 || !StoreRoot.TrySplit(normalized, out _, out _)
            || Posix.TryOpenReadNoFollow(Path.Combine(Root, normalized), out _) is not { } handle)
        {
            return null;
        }

        if (!Posix.TryStat(handle, out var status, out _) || !status.IsRegularFile || status.Size >= StoredHash.MinimumSize)
        {
            handle.Dispose();
            return null;
        }

        if (!_root.IsServable(Posix.LocationOf(handle)))
        {
            // A link on the way leads out (or into the reserved folder): what was opened is not ours to serve.
            handle.Dispose();
            throw StorageErrors.LeadsOutside(normalized);
        }

        entry = new RemoteEntry(normalized, EntryKind.File, status.Size, status.ModifiedUtc, status.PermissionBits);
        return InlineFileStream.FromHandle(handle, FileAccess.Read, status.Size);
    }

    /// <summary>Describes one path.</summary>
    public RemoteEntry Stat(string path)
    {
        var normalized = RemotePath.Normalize(path);
        return _root.Describe(normalized, _root.Resolve(normalized));
    }

    /// <summary>
    /// Creates a directory with its parents, or sets the time and mode of an existing one; then, with
    /// <paramref name="parentModified"/> (the request's ParentMTime), gives its parent directory that time (not the root's
    /// parent: the root has none in the tree), telling in <see cref="MadeDirectory.ParentTimeFailure"/> why it could not.
    /// </summary>
    public MadeDirectory MakeDirectory(string path, DateTimeOffset? modified, int? mode, DateTimeOffset? parentModified = null)
    {
        string? notSet = null;
        var normalized = RemotePath.Normalize(path);
        var full = _root.Resolve(normalized);
        if (normalized.Length > 0)
        {
            if (File.Exists(full))
            {
                throw new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(normalized)}' is a file");
            }

            _root.CreateDirectories(normalized);
        }

        BeforeUse?.Invoke(normalized);
        StorageErrors.Wrap(normalized, () =>
        {
            // Through the located handle (fchmod, futimens): the path may have been swapped for a link since.
            using var anchor = _root.OpenVerifiedDirectory(normalized, full);
            if (mode is { } bits && !OperatingSystem.IsWindows() && normalized.Length > 0)
            {
                // The owner keeps full access so the server can still write into it.
                var unixMode = (UnixFileMode)(bits & 0x1FF) | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
                if (anchor is null)
                {
                    File.SetUnixFileMode(full, unixMode);
                }
                else
                {
                    File.SetUnixFileMode(anchor, unixMode);
                }
            }

            if (modified is { } time)
            {
                if (anchor is null)
                {
                    Directory.SetLastWriteTimeUtc(full, time.UtcDateTime);
                }
                else
                {
                    File.SetLastWriteTimeUtc(anchor, time.UtcDateTime);
                }
            }

            if (parentModified is { } parentTime && normalized.Length > 0)
            {
                // After the directory was made (or found): the change its making caused is the one undone.
                using var parent = _root.OpenVerifiedParent(normalized, full);
                notSet = UploadPublisher.TrySetDirectoryTime(parent, Path.GetDirectoryName(full)!, parentTime);
            }

            return true;
        });
        return new MadeDirectory(_root.Describe(normalized, full), notSet);
    }

    /// <summary>Deletes a file or an empty directory.</summary>
    public RemoteEntry Delete(string path)
    {
        var normalized = RemotePath.Normalize(path);
        if (normalized.Length == 0)
        {
            throw new FileXferException(ErrorCode.AccessDenied, "cannot delete the root directory");
        }

        var full = _root.Resolve(normalized);
        var entry = _root.Describe(normalized, full);
        BeforeUse?.Invoke(normalized);
        StorageErrors.Wrap(normalized, () =>
        {
            using var anchor = _root.OpenVerifiedParent(normalized, full);
            var target = StoreRoot.Below(anchor, full);
            if (entry.Kind == EntryKind.Directory && new FileInfo(target).LinkTarget is null)
            {
                if (Directory.EnumerateFileSystemEntries(target).Any())
                {
                    throw new FileXferException(ErrorCode.DirectoryNotEmpty, $"directory '{RemotePath.Escape(normalized)}' is not empty");
                }

                Directory.Delete(target);
            }
            else
            {
                // A file, or a link inside the root: the link itself is removed, never its target.
                File.Delete(target);
            }

            Durable.FsyncDirectory(Path.GetDirectoryName(full)!);
            return true;
        });
        return entry;
    }
}
