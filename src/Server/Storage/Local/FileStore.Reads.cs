namespace FileXfer.Server.Storage.Local;

/// <summary>What reads the tree: open a file to send, stat a path, list a directory or a tree.</summary>
public sealed partial class FileStore
{
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
            throw StorageErrors.IsADirectory(normalized);
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

    /// <summary>Lists a directory; see <see cref="Lister.List"/>.</summary>
    public IEnumerable<ListedEntry> List(string path) => _lister.List(path);

    /// <summary>Lists a tree; see <see cref="Lister.ListTree"/>.</summary>
    public IEnumerable<ListedEntry> ListTree(string path) => _lister.ListTree(path);
}
