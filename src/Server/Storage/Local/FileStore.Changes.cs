namespace FileXfer.Server.Storage.Local;

/// <summary>The changes besides uploads: mkdir (with the directory's time and mode, and its parent's time) and delete.</summary>
public sealed partial class FileStore
{
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
