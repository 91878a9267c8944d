namespace FileXfer.Server.Storage.Local;

/// <summary>
/// Confinement: where a remote path is on disk, refusing the reserved folder and any symbolic link on the way whose
/// real target is outside the root; directories opened and located (<c>/proc/self/fd</c>) before an operation goes
/// through them, so a link swapped in meanwhile cannot carry it out of the root.
/// </summary>
/// <param name="root">The real, absolute path of the root (the server's, or a token's subtree).</param>
/// <param name="reservedPath">The server's reserved folder, which no client may reach.</param>
internal sealed class StoreRoot(string root, string reservedPath)
{
    /// <summary>The real, absolute path of the root.</summary>
    public string Root { get; } = root;

    /// <summary>The server's reserved folder.</summary>
    public string ReservedPath { get; } = reservedPath;

    /// <summary>
    /// Test seam: runs with the normalized path after it was checked and before the file system is touched for
    /// it, where a hostile local user could swap a component for a symbolic link.
    /// </summary>
    public Action<string>? BeforeUse { get; set; }

    /// <summary>
    /// Maps a normalized remote path to its local path, refusing the reserved folder and any symbolic link on
    /// the way whose real target is outside the root (or does not exist: a dangling link is not followed either).
    /// </summary>
    public string Resolve(string normalized) => ResolveWithState(normalized).FullPath;

    /// <summary>
    /// <see cref="Resolve"/>, also telling whether every parent is an existing directory and whether the last
    /// component is a directory, from one <c>lstat</c> per component.
    /// </summary>
    public ResolvedPath ResolveWithState(string normalized)
    {
        if (normalized.Length == 0)
        {
            return new ResolvedPath(Root, ParentsExist: true, IsDirectory: true);
        }

        var parts = normalized.Split('/');
        if (parts[0] == FileStore.ReservedName)
        {
            throw new FileXferException(ErrorCode.InvalidPath, $"'{FileStore.ReservedName}' is reserved by the server");
        }

        var current = Root;
        bool parentsExist = true;
        bool isDirectory = false;
        for (int i = 0; i < parts.Length; i++)
        {
            current = Path.Combine(current, parts[i]);
            var attributes = new FileInfo(current).Attributes;
            if ((int)attributes == -1)
            {
                // Missing: nothing below it can be a link.
                parentsExist = i == parts.Length - 1;
                isDirectory = false;
                break;
            }

            if ((attributes & FileAttributes.ReparsePoint) != 0)
            {
                var real = Posix.RealPath(current);
                if (!IsServable(real))
                {
                    throw RefuseLink(normalized, string.Join('/', parts, 0, i + 1), current, real);
                }

                isDirectory = Directory.Exists(real);
            }
            else
            {
                isDirectory = (attributes & FileAttributes.Directory) != 0;
            }

            if (!isDirectory && i < parts.Length - 1)
            {
                parentsExist = false;
                break;
            }
        }

        return new ResolvedPath(Path.Combine(Root, Path.Combine(parts)), parentsExist, isDirectory);
    }

    /// <summary>
    /// Why the link at <paramref name="local"/>, <paramref name="link"/> on the way of <paramref name="normalized"/>, whose
    /// real target is <paramref name="real"/> (null when it has none), is not followed. A dangling link whose target
    /// would be in the served tree is told as one; any other (a target outside the root or in the reserved folder, existing
    /// or not, a loop, a component that cannot be examined) leads outside as far as the client may know, so the answer
    /// tells nothing of what exists outside the root.
    /// </summary>
    private FileXferException RefuseLink(string normalized, string link, string local, string? real) =>
        real is null && DanglingLinks.MissingTarget(local) is { } missing && IsServable(missing)
            ? StorageErrors.DanglingLink(normalized, link)
            : StorageErrors.LeadsOutside(normalized);

    public bool IsInsideRoot(string realPath) =>
        realPath == Root || realPath.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>Inside the root and outside the reserved folder: a real path a client may reach.</summary>
    public bool IsServable(string? realPath) =>
        realPath is not null && IsInsideRoot(realPath)
        && realPath != ReservedPath && !realPath.StartsWith(ReservedPath + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// Opens the directory that holds <paramref name="localPath"/> and checks where it really is, so the operation
    /// that follows (through <see cref="Below"/>) happens in that directory even if its path is changed meanwhile.
    /// Null where handles cannot be located (not Linux): the path itself is used then.
    /// </summary>
    public SafeFileHandle? OpenVerifiedParent(string normalized, string localPath) =>
        OpenVerifiedDirectory(normalized, Path.GetDirectoryName(localPath)!);

    /// <summary>Opens a directory and checks that it really is inside the served tree; null where that cannot be checked.</summary>
    public SafeFileHandle? OpenVerifiedDirectory(string normalized, string localDirectory)
    {
        if (!Posix.CanLocateHandles)
        {
            return null;
        }

        var handle = Posix.OpenDirectory(localDirectory);
        if (!IsServable(Posix.LocationOf(handle)))
        {
            handle.Dispose();
            throw StorageErrors.LeadsOutside(normalized);
        }

        return handle;
    }

    /// <summary>The path of <paramref name="localPath"/>'s last component inside the directory held by <paramref name="anchor"/>.</summary>
    public static string Below(SafeFileHandle? anchor, string localPath) =>
        anchor is null ? localPath : Path.Combine(Posix.HandlePath(anchor), Path.GetFileName(localPath));

    /// <summary>
    /// Splits a normalized path into its directory (empty for the root) and last name; false for a path into the
    /// reserved folder, which only the full walk refuses properly.
    /// </summary>
    public static bool TrySplit(string normalized, out string directory, out string name)
    {
        int slash = normalized.LastIndexOf('/');
        directory = slash < 0 ? string.Empty : normalized[..slash];
        name = slash < 0 ? normalized : normalized[(slash + 1)..];
        var first = slash < 0 ? normalized : normalized.AsSpan(0, normalized.IndexOf('/'));
        return !first.SequenceEqual(FileStore.ReservedName);
    }

    /// <summary>
    /// Decides whether a file may be written at <paramref name="normalized"/> (not the root), and makes its missing
    /// parents, each checked as it is made; returns where the file goes. Refused: the reserved folder (InvalidPath), a link
    /// on the way or at the end whose real target is outside the root, in the reserved folder or missing (AccessDenied), a
    /// file on the way (NotADirectory), a directory at the end (IsADirectory). Anything else at the end (a file, a link to
    /// one inside the root, a FIFO, a device) is replaced whole when the upload is published, never written into. The one
    /// check of a put's start (<see cref="FileStore.BeginUpload"/>, where no kept directory answers first), a ranged put's
    /// first range and its Assemble, and a publish by path (<see cref="UploadPublisher.Publish"/>), so they cannot drift.
    /// </summary>
    public string PrepareFileDestination(string normalized)
    {
        var resolved = ResolveWithState(normalized);
        if (!resolved.ParentsExist)
        {
            CreateParents(normalized);

            // Looked at again below the new directories: something may have been made at the destination meanwhile.
            resolved = ResolveWithState(normalized);
        }

        return resolved.IsDirectory ? throw StorageErrors.IsADirectory(normalized) : resolved.FullPath;
    }

    /// <summary>Creates the missing directories above <paramref name="normalized"/>, each checked as it is made.</summary>
    public void CreateParents(string normalized)
    {
        int slash = normalized.LastIndexOf('/');
        if (slash < 0)
        {
            return;
        }

        CreateDirectories(normalized[..slash]);
    }

    /// <summary>Creates <paramref name="directory"/> and the directories above it that are missing, each checked as it is made.</summary>
    public void CreateDirectories(string directory)
    {
        var current = Root;
        foreach (var part in directory.Split('/'))
        {
            current = Path.Combine(current, part);
            if (File.Exists(current))
            {
                throw new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(part)}' in '{RemotePath.Escape(directory)}' is a file, not a directory");
            }
        }

        // One level at a time, each made inside a directory handle that was located first, so a link swapped in on
        // the way cannot carry the new directories out of the root.
        var prefix = RemotePath.Root;
        foreach (var part in directory.Split('/'))
        {
            prefix = RemotePath.Combine(prefix, part);
            var resolved = ResolveWithState(prefix);
            if (resolved.IsDirectory)
            {
                continue;
            }

            BeforeUse?.Invoke(prefix);
            StorageErrors.Wrap(prefix, () =>
            {
                using var anchor = OpenVerifiedParent(prefix, resolved.FullPath);
                return Directory.CreateDirectory(Below(anchor, resolved.FullPath));
            });
        }
    }

    /// <summary>Describes the existing <paramref name="full"/> as <paramref name="normalized"/>.</summary>
    /// <exception cref="FileXferException">NotFound.</exception>
    public RemoteEntry Describe(string normalized, string full)
    {
        FileSystemInfo info = Directory.Exists(full) ? new DirectoryInfo(full) : new FileInfo(full);
        if (!info.Exists)
        {
            throw StorageErrors.NotFound(normalized);
        }

        return ToEntry(normalized, info);
    }

    /// <summary>Describes <paramref name="info"/> under <paramref name="name"/>: a link by what it points to, inside the served tree.</summary>
    public RemoteEntry ToEntry(string name, FileSystemInfo info)
    {
        if (info.LinkTarget is not null)
        {
            // A link is served as what it points to, so it is described by its target: the link's own size and
            // time would not match what a get sends. A link that leads out of the root (or nowhere) is only
            // named, so a listing reveals nothing about what lies outside.
            var real = Posix.RealPath(info.FullName);
            if (real is null || !IsServable(real))
            {
                return new RemoteEntry(name, EntryKind.Other, 0, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), null);
            }

            info = Directory.Exists(real) ? new DirectoryInfo(real) : new FileInfo(real);
        }

        var kind = info switch
        {
            DirectoryInfo => EntryKind.Directory,
            // A FIFO would block a get forever, a device would stream without end: only regular files are files.
            FileInfo file when FileTypes.IsRegularFile(file.FullName) => EntryKind.File,
            _ => EntryKind.Other,
        };
        long size = info is FileInfo f && kind == EntryKind.File ? f.Length : 0;
        int? mode = OperatingSystem.IsWindows() ? null : (int)info.UnixFileMode;
        return new RemoteEntry(name, kind, size, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), mode);
    }
}
