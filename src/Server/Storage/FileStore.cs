using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Paths;

namespace FileXfer.Server.Storage;

/// <summary>
/// The storage policy of the server: every remote path confined to one root, uploads staged in a hidden
/// area and renamed into place only when complete and verified.
/// </summary>
/// <remarks>
/// Confinement is checked component by component: a symbolic link on the way is followed only when its
/// real target stays inside the root. The checks and the later file operations are separate system calls,
/// so a local user who can swap links inside the root between them is not defended against (docs/SECURITY.md).
/// </remarks>
public sealed class FileStore
{
    /// <summary>The top-level name reserved for the server's own files; clients cannot name or list it.</summary>
    public const string ReservedName = ".filexfer";

    private const string StagingSuffix = ".part";

    public FileStore(string root, FileStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"root directory '{full}' does not exist");
        }

        Root = NativeMethods.RealPath(full) ?? full;
        Options = options ?? new FileStoreOptions();
        StagingDirectory = Path.Combine(Root, ReservedName, "staging");
        Directory.CreateDirectory(StagingDirectory);
    }

    /// <summary>The real, absolute path of the root.</summary>
    public string Root { get; }

    /// <summary>Where uploads are written until they are complete.</summary>
    public string StagingDirectory { get; }

    /// <summary>The store's settings.</summary>
    public FileStoreOptions Options { get; }

    /// <summary>Removes temp files left by a crash. Returns how many were removed.</summary>
    public int RemoveStaleUploads()
    {
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(StagingDirectory, "*" + StagingSuffix))
        {
            File.Delete(file);
            removed++;
        }

        return removed;
    }

    /// <summary>
    /// Starts an upload of <paramref name="size"/> bytes to <paramref name="path"/>: checks the path and the free
    /// space, creates missing parent directories and a uniquely named temp file in the staging area.
    /// </summary>
    public PendingUpload BeginUpload(string path, long size)
    {
        var normalized = RemotePath.Normalize(path);
        if (normalized.Length == 0)
        {
            throw new FileXferException(ErrorCode.IsADirectory, "cannot put to the root directory itself");
        }

        if (size > Options.MaxFileSize)
        {
            throw new FileXferException(ErrorCode.TooLarge, $"file of {size} bytes exceeds the server's limit of {Options.MaxFileSize}");
        }

        EnsureSpace(size);
        var destination = Resolve(normalized);
        if (Directory.Exists(destination))
        {
            throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(normalized)}' is a directory");
        }

        CreateParents(normalized);
        var tempPath = Path.Combine(StagingDirectory, $"{Guid.NewGuid():N}{StagingSuffix}");
        var streamOptions = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            // Nobody else reads an upload before it is complete.
            streamOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var stream = new FileStream(tempPath, streamOptions);
        return new PendingUpload(this, normalized, destination, tempPath, stream, size);
    }

    /// <summary>Opens a stored file for reading.</summary>
    public FileStream OpenRead(string path, out RemoteEntry entry)
    {
        var normalized = RemotePath.Normalize(path);
        var full = Resolve(normalized);
        entry = Describe(normalized, full);
        if (entry.Kind == EntryKind.Directory)
        {
            throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(normalized)}' is a directory");
        }

        if (entry.Kind != EntryKind.File)
        {
            throw new FileXferException(ErrorCode.AccessDenied, $"'{RemotePath.Escape(normalized)}' is not a regular file");
        }

        return Wrap(normalized, () => new FileStream(full, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.Read,
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            BufferSize = 0,
        }));
    }

    /// <summary>Describes one path.</summary>
    public RemoteEntry Stat(string path)
    {
        var normalized = RemotePath.Normalize(path);
        return Describe(normalized, Resolve(normalized));
    }

    /// <summary>Lists a directory, sorted by name, without the server's reserved folder.</summary>
    public IReadOnlyList<RemoteEntry> List(string path)
    {
        var normalized = RemotePath.Normalize(path);
        var full = Resolve(normalized);
        if (!Directory.Exists(full))
        {
            throw File.Exists(full)
                ? new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(normalized)}' is not a directory")
                : NotFound(normalized);
        }

        var entries = new List<RemoteEntry>();
        Wrap(normalized, () =>
        {
            foreach (var info in new DirectoryInfo(full).EnumerateFileSystemInfos())
            {
                if (normalized.Length == 0 && info.Name == ReservedName)
                {
                    continue;
                }

                if (!RemotePath.IsValidName(info.Name, out _))
                {
                    // A name the protocol cannot carry (made locally on the server) is left out rather than sent.
                    continue;
                }

                if (entries.Count == Options.MaxListEntries)
                {
                    throw new FileXferException(ErrorCode.TooLarge, $"directory has more than {Options.MaxListEntries} entries");
                }

                entries.Add(ToEntry(info.Name, info));
            }

            return entries;
        });
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return entries;
    }

    /// <summary>Deletes a file or an empty directory.</summary>
    public RemoteEntry Delete(string path)
    {
        var normalized = RemotePath.Normalize(path);
        if (normalized.Length == 0)
        {
            throw new FileXferException(ErrorCode.AccessDenied, "cannot delete the root directory");
        }

        var full = Resolve(normalized);
        var entry = Describe(normalized, full);
        Wrap(normalized, () =>
        {
            if (entry.Kind == EntryKind.Directory && new FileInfo(full).LinkTarget is null)
            {
                if (Directory.EnumerateFileSystemEntries(full).Any())
                {
                    throw new FileXferException(ErrorCode.DirectoryNotEmpty, $"directory '{RemotePath.Escape(normalized)}' is not empty");
                }

                Directory.Delete(full);
            }
            else
            {
                // A file, or a link inside the root: the link itself is removed, never its target.
                File.Delete(full);
            }

            NativeMethods.FsyncDirectory(Path.GetDirectoryName(full)!);
            return true;
        });
        return entry;
    }

    /// <summary>
    /// Maps a normalized remote path to its local path, refusing the reserved folder and any symbolic link on
    /// the way whose real target is outside the root (or does not exist).
    /// </summary>
    internal string Resolve(string normalized)
    {
        if (normalized.Length == 0)
        {
            return Root;
        }

        var parts = normalized.Split('/');
        if (parts[0] == ReservedName)
        {
            throw new FileXferException(ErrorCode.InvalidPath, $"'{ReservedName}' is reserved by the server");
        }

        var current = Root;
        foreach (var part in parts)
        {
            current = Path.Combine(current, part);
            var info = new FileInfo(current);
            if (info.LinkTarget is not null)
            {
                var real = NativeMethods.RealPath(current);
                if (real is null || !IsInsideRoot(real))
                {
                    throw new FileXferException(ErrorCode.AccessDenied, $"'{RemotePath.Escape(normalized)}' leads outside the root through a symbolic link");
                }
            }
            else if (!info.Exists && !Directory.Exists(current))
            {
                // Nothing below a missing component can be a link.
                break;
            }
        }

        return Path.Combine(Root, Path.Combine(parts));
    }

    internal bool IsInsideRoot(string realPath) =>
        realPath == Root || realPath.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    internal static FileXferException NotFound(string normalized) =>
        new(ErrorCode.NotFound, $"'{RemotePath.Escape(normalized)}' not found");

    /// <summary>Runs a file-system action and turns its failures into coded errors.</summary>
    internal static T Wrap<T>(string normalized, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(normalized, ex);
        }
    }

    /// <summary>The asynchronous form of <see cref="Wrap{T}"/>.</summary>
    internal static async Task WrapAsync(string normalized, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(normalized, ex);
        }
    }

    private static FileXferException Translate(string normalized, Exception exception) => exception switch
    {
        FileNotFoundException or DirectoryNotFoundException => NotFound(normalized),
        UnauthorizedAccessException => new(ErrorCode.AccessDenied, $"permission denied on '{RemotePath.Escape(normalized)}'", exception),
        IOException io when DiskFull.Is(io) => new(ErrorCode.InsufficientStorage, "no space left on the server's storage", exception),
        _ => new(ErrorCode.Internal, $"storage error on '{RemotePath.Escape(normalized)}': {exception.Message}", exception),
    };

    private void CreateParents(string normalized)
    {
        int slash = normalized.LastIndexOf('/');
        if (slash < 0)
        {
            return;
        }

        var parent = normalized[..slash];
        var current = Root;
        foreach (var part in parent.Split('/'))
        {
            current = Path.Combine(current, part);
            if (File.Exists(current))
            {
                throw new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(part)}' in '{RemotePath.Escape(normalized)}' is a file, not a directory");
            }
        }

        Wrap(normalized, () => Directory.CreateDirectory(Resolve(parent)));
    }

    private void EnsureSpace(long size)
    {
        long available;
        try
        {
            available = new DriveInfo(Root).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // The free-space probe is a courtesy; the write itself still fails cleanly on a full disk.
            return;
        }

        if (size > available - Options.ReserveBytes)
        {
            throw new FileXferException(ErrorCode.InsufficientStorage, $"not enough space on the server: {size} bytes needed, {Math.Max(0, available - Options.ReserveBytes)} available");
        }
    }

    private RemoteEntry Describe(string normalized, string full)
    {
        FileSystemInfo info = Directory.Exists(full) ? new DirectoryInfo(full) : new FileInfo(full);
        if (!info.Exists)
        {
            throw NotFound(normalized);
        }

        return ToEntry(normalized, info);
    }

    private RemoteEntry ToEntry(string name, FileSystemInfo info)
    {
        if (info.LinkTarget is not null)
        {
            // A link is served as what it points to, so it is described by its target: the link's own size and
            // time would not match what a get sends. A link that leads out of the root (or nowhere) is only
            // named, so a listing reveals nothing about what lies outside.
            var real = NativeMethods.RealPath(info.FullName);
            if (real is null || !IsInsideRoot(real))
            {
                return new RemoteEntry(name, EntryKind.Other, 0, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), null);
            }

            info = Directory.Exists(real) ? new DirectoryInfo(real) : new FileInfo(real);
        }

        var kind = info switch
        {
            DirectoryInfo => EntryKind.Directory,
            FileInfo file when (file.Attributes & (FileAttributes.Device | FileAttributes.ReparsePoint)) == 0 => EntryKind.File,
            _ => EntryKind.Other,
        };
        long size = info is FileInfo f && kind == EntryKind.File ? f.Length : 0;
        int? mode = OperatingSystem.IsWindows() ? null : (int)info.UnixFileMode;
        return new RemoteEntry(name, kind, size, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), mode);
    }
}
