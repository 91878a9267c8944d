using System.Collections.Concurrent;
using System.IO.Enumeration;
using System.Security.Cryptography;
using System.Text;
using FileXfer.Platform;
using Microsoft.Win32.SafeHandles;
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
/// real target stays inside the root and outside the reserved folder. On Linux the operations themselves are
/// checked again after the fact, so a link swapped in between the check and the use is not followed out of the
/// root: a file is opened and then located through <c>/proc/self/fd</c>; a rename, delete, listing or mkdir
/// goes through a handle of its directory that was opened and located first. What remains is a read of
/// metadata (stat) through a swapped link, and a FIFO swapped in after the check blocking one connection.
/// </remarks>
public sealed class FileStore
{
    /// <summary>The top-level name reserved for the server's own files; clients cannot name or list it.</summary>
    public const string ReservedName = ".filexfer";

    private const string StagingSuffix = ".part";
    private const string ResumableSuffix = ".resume";

    // A partial in use maps to its upload's hold on it.
    private readonly ConcurrentDictionary<string, ResumeClaim> _resumesInUse;
    private readonly ConcurrentDictionary<string, bool> _tempsInUse;

    // The normalized path of this store's root below the server's root: empty, or a token's subtree.
    private readonly string _subtree;

    private readonly string _reservedPath;

    private long _availableBytes;
    private long _availableCheckedAt = long.MinValue / 2;

    // The staging area, held open so temp files are created and renamed relative to it (Linux), and its file system.
    private readonly SafeFileHandle? _staging;
    private readonly ulong _stagingDevice;

    // Temp names: unique in this process by the counter, between processes by the prefix; O_EXCL refuses a clash.
    private static readonly string s_tempPrefix = Guid.NewGuid().ToString("N")[..16];
    private static long s_tempCounter;

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
        _reservedPath = Path.Combine(Root, ReservedName);
        StagingDirectory = Path.Combine(Root, ReservedName, "staging");
        CheckNotWritableByOthers(Root);
        CheckOwnedByServer(Root);
        CreatePrivateDirectory(Path.Combine(Root, ReservedName));
        CreatePrivateDirectory(StagingDirectory);
        _staging = Posix.CanLocateHandles ? Posix.OpenDirectory(StagingDirectory) : null;
        _stagingDevice = _staging is not null && Posix.TryStat(_staging, out var staging, out _) ? staging.Device : 0;
        _resumesInUse = new(StringComparer.Ordinal);
        _tempsInUse = new(StringComparer.Ordinal);
        _subtree = string.Empty;
    }

    private FileStore(FileStore parent, string root, string subtree)
    {
        Root = root;
        Options = parent.Options;
        StagingDirectory = parent.StagingDirectory;
        _staging = parent._staging;
        _stagingDevice = parent._stagingDevice;
        _reservedPath = parent._reservedPath;
        _resumesInUse = parent._resumesInUse;
        _tempsInUse = parent._tempsInUse;
        _subtree = subtree;
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

        CreateDirectories(normalized);
        var real = Posix.RealPath(Resolve(normalized));
        if (real is null || !IsInsideRoot(real) || !Directory.Exists(real))
        {
            throw new FileXferException(ErrorCode.AccessDenied, $"subtree '{RemotePath.Escape(normalized)}' is not a directory inside the root");
        }

        return new FileStore(this, real, RemotePath.Combine(_subtree, normalized));
    }

    /// <summary>
    /// Refuses a directory that users other than its owner can write: in the root they could plant or swap files
    /// and links under the names clients store and fetch.
    /// </summary>
    /// <exception cref="UnsafeDirectoryException">The directory is writable by group or others.</exception>
    private static void CheckNotWritableByOthers(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(directory);
        if ((mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new UnsafeDirectoryException(
                $"'{directory}' is writable by other users (mode {Convert.ToString((int)mode & 0xFFF, 8).PadLeft(4, '0')}); fix with: chmod go-w '{directory}'");
        }
    }

    /// <summary>
    /// Refuses a root that another user owns: its owner can write it whatever its mode, and so plant or swap the
    /// files that clients store and fetch.
    /// </summary>
    /// <exception cref="UnsafeDirectoryException">The directory belongs to another user.</exception>
    private static void CheckOwnedByServer(string directory)
    {
        if (Posix.OwnerOf(directory) is { } owner && Posix.EffectiveUserId() is { } user && owner != user)
        {
            throw new UnsafeDirectoryException(
                $"'{directory}' belongs to user {owner}, not to user {user} who runs the server, and its owner can change what it holds; fix with: chown {user} '{directory}'");
        }
    }

    /// <summary>
    /// Creates a directory of the server's own (mode 0700) when it is missing, and refuses an existing one that is a
    /// link, that another user owns, or that others can write: whoever controls the staging area controls what
    /// is committed under the real names.
    /// </summary>
    /// <exception cref="UnsafeDirectoryException">The directory is not the server's alone.</exception>
    private static void CreatePrivateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (new DirectoryInfo(directory).LinkTarget is not null)
        {
            throw new UnsafeDirectoryException($"'{directory}' is a symbolic link; the server's staging area must be a real directory (remove the link)");
        }

        if (Posix.OwnerOf(directory) is { } owner && Posix.EffectiveUserId() is { } user && owner != user)
        {
            throw new UnsafeDirectoryException(
                $"'{directory}' belongs to user {owner}, not to user {user} who runs the server; fix with: chown -R {user} '{directory}'");
        }

        CheckNotWritableByOthers(directory);
    }

    /// <summary>The real, absolute path of the root.</summary>
    public string Root { get; }

    /// <summary>Where uploads are written until they are complete.</summary>
    public string StagingDirectory { get; }

    /// <summary>The store's settings.</summary>
    public FileStoreOptions Options { get; }

    /// <summary>
    /// Test seam: runs with the normalized path after it was checked and before the file system is touched for
    /// it, where a hostile local user could swap a component for a symbolic link.
    /// </summary>
    internal Action<string>? BeforeUse { get; set; }

    /// <summary>Removes temp files left by a crash. Returns how many were removed.</summary>
    public int RemoveStaleUploads() => RemoveStaleUploads(Options.PartialMaxAge);

    /// <summary>
    /// Removes temp files of uploads that cannot resume (left by a crash), and partial uploads kept for resuming
    /// that have not been touched for <paramref name="partialMaxAge"/>. Partials in use are left alone.
    /// </summary>
    public int RemoveStaleUploads(TimeSpan partialMaxAge)
    {
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(StagingDirectory, "*" + StagingSuffix))
        {
            if (!_tempsInUse.ContainsKey(file))
            {
                File.Delete(file);
                removed++;
            }
        }

        var cutoff = DateTime.UtcNow - partialMaxAge;
        foreach (var file in Directory.EnumerateFiles(StagingDirectory, "*" + ResumableSuffix))
        {
            var key = Path.GetFileNameWithoutExtension(file);
            var claim = new ResumeClaim();
            if (File.GetLastWriteTimeUtc(file) < cutoff && _resumesInUse.TryAdd(key, claim))
            {
                try
                {
                    File.Delete(file);
                    removed++;
                }
                finally
                {
                    ReleaseResumeKey(key, claim);
                }
            }
        }

        return removed;
    }

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

        EnsureSpace(size);
        bool resumable = resumeKey is { Length: > 0 };
        if (!resumable && directories is not null
            && (deferCheck ? TrySplit(normalized, out var directory, out _) && directories.Peek(directory) is not null : TryCheckInKeptDirectory(normalized, directories)))
        {
            return BeginTemp(normalized, Path.Combine(Root, normalized), declaredSize, directories);
        }

        var resolved = ResolveWithState(normalized);
        var destination = resolved.FullPath;
        if (resolved.IsDirectory)
        {
            throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(normalized)}' is a directory");
        }

        if (!resolved.ParentsExist)
        {
            CreateParents(normalized);
        }

        if (directories is not null)
        {
            KeepParent(directories, normalized, destination, evict: true);
        }

        if (resumable)
        {
            var name = ResumeName(resumeKey!, normalized);
            var claim = new ResumeClaim();
            if (_resumesInUse.TryAdd(name, claim))
            {
                try
                {
                    var resumableTemp = Path.Combine(StagingDirectory, name + ResumableSuffix);
                    var partial = Wrap(normalized, () => InlineFileStream.OpenResumable(resumableTemp));
                    return new PendingUpload(this, normalized, destination, resumableTemp, partial, declaredSize, () => ReleaseResumeKey(name, claim), directories, _stagingDevice)
                    {
                        Revoked = claim.Revoked,
                    };
                }
                catch
                {
                    ReleaseResumeKey(name, claim);
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
        if (directories is not null && TrySplit(normalized, out var directory, out _) && directories.Peek(directory, out ulong device) is { } kept
            && Posix.TryCreateUnnamed(kept, out _) is { } unnamed)
        {
            return new PendingUpload(this, normalized, destination, tempPath: null, InlineFileStream.FromHandle(unnamed, FileAccess.Write, length: 0), declaredSize, static () => { }, directories, device);
        }

        var tempName = NewTempName();
        var tempPath = Path.Combine(StagingDirectory, tempName);

        // Registered before it exists, so a concurrent sweep of stale temps cannot take it.
        _tempsInUse.TryAdd(tempPath, true);
        InlineFileStream stream;
        try
        {
            stream = Wrap(normalized, () => _staging is null ? InlineFileStream.CreateNew(tempPath) : InlineFileStream.CreateNewAt(_staging, tempName));
        }
        catch
        {
            _tempsInUse.TryRemove(tempPath, out _);
            throw;
        }

        return new PendingUpload(this, normalized, destination, tempPath, stream, declaredSize, () => _tempsInUse.TryRemove(tempPath, out _), directories, _stagingDevice);
    }

    private static string NewTempName() => $"{s_tempPrefix}{Interlocked.Increment(ref s_tempCounter):x}{StagingSuffix}";

    /// <summary>
    /// Gives an unnamed upload its name <paramref name="name"/> in the directory held by <paramref name="directory"/>: a
    /// link when the name is free; over an existing file, a link in the staging area renamed over it, so the old file is
    /// replaced whole or not at all.
    /// </summary>
    /// <exception cref="IOException">The link or the rename failed (the errno in its HResult).</exception>
    /// <exception cref="FileXferException">The name is a directory.</exception>
    internal void LinkInto(PendingUpload upload, SafeFileHandle directory, string name, bool exists)
    {
        var file = upload.TempFile.Handle;
        int failure = exists ? Posix.FileExists : Posix.LinkAt(file, directory, name);
        if (failure == Posix.FileExists)
        {
            var staged = NewTempName();
            failure = Posix.LinkAt(file, _staging ?? throw new InvalidOperationException("no staging handle"), staged);
            if (failure == 0)
            {
                failure = Posix.RenameAt(_staging, staged, directory, name);
                if (failure != 0)
                {
                    _ = Posix.UnlinkAt(_staging, staged);
                }
            }
        }

        switch (failure)
        {
            case 0:
                return;
            case Posix.IsADirectory:
                throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(upload.Path)}' is a directory");
            default:
                throw new IOException($"cannot give the upload its name: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(failure)}", failure);
        }
    }

    /// <summary>
    /// The first check of an upload's destination, through its directory's kept handle: true when the directory is kept
    /// and the name is free or a regular file; false when the full walk must decide (nothing kept, the name is a link or
    /// something else). Where the handle is now is not asked here: nothing is written through it before the upload is
    /// published, which checks it in place (and walks the path again, creating what is missing, when it moved).
    /// </summary>
    /// <exception cref="FileXferException">The destination is a directory.</exception>
    private static bool TryCheckInKeptDirectory(string normalized, DirectoryHandles directories)
    {
        if (!TrySplit(normalized, out var directory, out var name) || directories.Peek(directory) is not { } handle)
        {
            return false;
        }

        if (!Posix.TryStatAt(handle, name, followLinks: false, out var status, out int errno))
        {
            return errno == Posix.NoSuchFile;
        }

        return status.IsDirectory
            ? throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(normalized)}' is a directory")
            : status.IsRegularFile;
    }

    /// <summary>
    /// Splits a normalized path into its directory (empty for the root) and last name; false for a path into the
    /// reserved folder, which only the full walk refuses properly.
    /// </summary>
    internal static bool TrySplit(string normalized, out string directory, out string name)
    {
        int slash = normalized.LastIndexOf('/');
        directory = slash < 0 ? string.Empty : normalized[..slash];
        name = slash < 0 ? normalized : normalized[(slash + 1)..];
        var first = slash < 0 ? normalized : normalized.AsSpan(0, normalized.IndexOf('/'));
        return !first.SequenceEqual(ReservedName);
    }

    /// <summary>
    /// Opens, locates and keeps the directory that holds <paramref name="localPath"/>, when it is inside the served
    /// tree; a failure keeps nothing (the operation itself checks again and reports).
    /// </summary>
    private void KeepParent(DirectoryHandles directories, string normalized, string localPath, bool evict)
    {
        if (!Posix.CanLocateHandles || !TrySplit(normalized, out var directory, out _))
        {
            return;
        }

        SafeFileHandle handle;
        try
        {
            handle = Posix.OpenDirectory(Path.GetDirectoryName(localPath)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        if (Posix.LocationOf(handle) is not { } location || !IsServable(location) || !directories.Keep(directory, handle, location, evict))
        {
            handle.Dispose();
        }
    }

    /// <summary>
    /// Renames a sealed upload's temp file into its directory through the kept handle of that directory, checked in
    /// place right before: true when done, false when the full walk must do it (nothing kept, the directory moved,
    /// the name became a link or something else). <paramref name="announced"/> tells whether <see cref="BeforeUse"/> ran,
    /// <paramref name="location"/> where the directory is (its real path).
    /// </summary>
    /// <exception cref="FileXferException">The destination is now a directory.</exception>
    internal bool TryPublishInKeptDirectory(PendingUpload upload, DirectoryHandles directories, out bool announced, out string location)
    {
        announced = false;
        location = string.Empty;
        if (_staging is null || !TrySplit(upload.Path, out var directory, out var name) || directories.Peek(directory) is null)
        {
            return false;
        }

        BeforeUse?.Invoke(upload.Path);
        announced = true;
        if (directories.Find(directory, out location) is not { } handle)
        {
            return false;
        }

        // An unnamed file is linked in at once when the name is free, the common case; a name taken is looked at first.
        if (upload.TempPath is null)
        {
            int linked = Posix.LinkAt(upload.TempFile.Handle, handle, name);
            if (linked == 0)
            {
                return true;
            }

            if (linked != Posix.FileExists)
            {
                throw new IOException($"cannot give the upload its name: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(linked)}", linked);
            }
        }

        bool exists = Posix.TryStatAt(handle, name, followLinks: false, out var status, out int errno);
        if (exists)
        {
            if (status.IsDirectory)
            {
                throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(upload.Path)}' is a directory");
            }

            if (!status.IsRegularFile)
            {
                return false;
            }
        }
        else if (errno != Posix.NoSuchFile)
        {
            return false;
        }

        if (upload.TempPath is null)
        {
            if (!exists)
            {
                // Gone again since the link found it: the full walk decides.
                return false;
            }

            LinkInto(upload, handle, name, exists: true);
            return true;
        }

        int failure = Posix.RenameAt(_staging, Path.GetFileName(upload.TempPath), handle, name);
        return failure switch
        {
            0 => true,
            Posix.IsADirectory => throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(upload.Path)}' is a directory"),
            _ => throw new IOException($"cannot rename the upload into place: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(failure)}", failure),
        };
    }

    /// <summary>
    /// The slow publish's directory handle, kept for the next file when there is room (never evicting: handles are in
    /// use). Returns where the directory is, when that could be read.
    /// </summary>
    internal string? KeepAnchor(DirectoryHandles? directories, string normalized, ref SafeFileHandle? anchor)
    {
        if (anchor is null || Posix.LocationOf(anchor) is not { } location)
        {
            return null;
        }

        if (directories is not null && TrySplit(normalized, out var directory, out _) && IsServable(location)
            && directories.Keep(directory, anchor, location, evict: false))
        {
            anchor = null;
        }

        return location;
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
            || !_resumesInUse.TryGetValue(ResumeName(resumeKey, normalized), out var holder))
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

    private void ReleaseResumeKey(string name, ResumeClaim claim)
    {
        _resumesInUse.TryRemove(KeyValuePair.Create(name, claim));
        claim.Release();
    }

    /// <summary>
    /// Makes sealed uploads durable and visible: their data is flushed to disk (one <c>syncfs</c> for a group,
    /// <c>fsync</c> for a single file), each is renamed over its destination, then each directory that received
    /// one is synced once. Nothing is renamed before its data is on disk. Returns, per upload, null or why it
    /// failed; every upload is disposed.
    /// </summary>
    public static IReadOnlyList<FileXferException?> CommitGroup(IReadOnlyList<PendingUpload> uploads)
    {
        ArgumentNullException.ThrowIfNull(uploads);
        var results = new FileXferException?[uploads.Count];
        try
        {
            try
            {
                // One syncfs per file system (an unnamed temp file lives on its directory's), or an fsync for a lone file.
                foreach (var onDevice in uploads.GroupBy(u => u.Device))
                {
                    Durable.FlushAll([.. onDevice.Select(u => u.TempFile)], onDevice.Key);
                }
            }
            catch (IOException ex)
            {
                var error = DiskFull.Is(ex)
                    ? new FileXferException(ErrorCode.InsufficientStorage, "no space left on the server's storage", ex)
                    : new FileXferException(ErrorCode.Internal, $"flushing uploads to disk failed: {ex.Message}", ex);
                Array.Fill(results, error);
                return results;
            }

            // Each directory that received a file (by its real path), once: through its kept handle when that is still
            // the handle of that same directory, else by its path.
            var directories = new Dictionary<string, (string Remote, DirectoryHandles? Handles)>(StringComparer.Ordinal);
            for (int i = 0; i < uploads.Count; i++)
            {
                try
                {
                    var (directory, local) = uploads[i].Publish();
                    directories.TryAdd(local, (directory, uploads[i].Directories));
                }
                catch (FileXferException ex)
                {
                    results[i] = ex;
                }
            }

            foreach (var (local, (directory, handles)) in directories)
            {
                try
                {
                    if (handles?.Peek(directory, local) is { } handle)
                    {
                        Durable.FsyncDirectory(handle);
                    }
                    else
                    {
                        Durable.FsyncDirectory(local);
                    }
                }
                catch (IOException)
                {
                    // The files are in place and their data is on disk; a directory some file system cannot sync
                    // is not a reason to report them as failed.
                }
            }

            return results;
        }
        finally
        {
            foreach (var upload in uploads)
            {
                upload.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>Opens a stored file for reading.</summary>
    public InlineFileStream OpenRead(string path, out RemoteEntry entry)
    {
        var normalized = RemotePath.Normalize(path);
        if (TryOpenReadDirect(normalized, out entry) is { } direct)
        {
            return direct;
        }

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

        BeforeUse?.Invoke(normalized);
        return Wrap(normalized, () =>
        {
            var stream = InlineFileStream.OpenRead(full);
            if (Posix.CanLocateHandles && !IsServable(Posix.LocationOf(stream.Handle)))
            {
                // A link swapped in after the check: what was opened is not ours to serve.
                stream.Dispose();
                throw LeadsOutside(normalized);
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
        if (!Posix.CanLocateHandles || normalized.Length == 0 || !TrySplit(normalized, out _, out _)
            || Posix.TryOpenReadNoFollow(Path.Combine(Root, normalized), out _) is not { } handle)
        {
            return null;
        }

        if (!Posix.TryStat(handle, out var status, out _) || !status.IsRegularFile || status.Size >= StoredHash.MinimumSize)
        {
            handle.Dispose();
            return null;
        }

        if (!IsServable(Posix.LocationOf(handle)))
        {
            // A link on the way leads out (or into the reserved folder): what was opened is not ours to serve.
            handle.Dispose();
            throw LeadsOutside(normalized);
        }

        entry = new RemoteEntry(normalized, EntryKind.File, status.Size, status.ModifiedUtc, status.PermissionBits);
        return InlineFileStream.FromHandle(handle, FileAccess.Read, status.Size);
    }

    /// <summary>Describes one path.</summary>
    public RemoteEntry Stat(string path)
    {
        var normalized = RemotePath.Normalize(path);
        return Describe(normalized, Resolve(normalized));
    }

    /// <summary>
    /// Lists a directory, sorted by name (ordinal UTF-16), without the server's reserved folder. The names are read,
    /// and the per-directory limit checked, before this returns, so a bad path or an unreadable directory fails
    /// here; each entry is examined as the listing is enumerated, so a listing in flight holds the directory's
    /// names, never more. A name the protocol cannot carry comes as an omitted entry, to be reported, not hidden.
    /// Dispose the enumerator (foreach does) to release the directory.
    /// </summary>
    /// <exception cref="FileXferException">NotFound, NotADirectory, AccessDenied, TooLarge (more than
    /// <see cref="FileStoreOptions.MaxListEntries"/> entries in the directory).</exception>
    public IEnumerable<ListedEntry> List(string path)
    {
        var normalized = RemotePath.Normalize(path);
        var full = Resolve(normalized);
        if (!Directory.Exists(full))
        {
            throw File.Exists(full)
                ? new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(normalized)}' is not a directory")
                : NotFound(normalized);
        }

        BeforeUse?.Invoke(normalized);
        return Wrap(normalized, () =>
        {
            var anchor = OpenVerifiedDirectory(normalized, full);
            try
            {
                var directory = anchor is null ? full : Posix.HandlePath(anchor);
                var names = ReadNames(directory, normalized);
                return Examine(anchor, directory, names);
            }
            catch
            {
                anchor?.Dispose();
                throw;
            }
        });
    }

    /// <summary>The names of one directory, sorted, checked against the per-directory limit.</summary>
    private string[] ReadNames(string directory, string normalized)
    {
        var names = new List<string>();
        foreach (var name in new FileSystemEnumerable<string>(directory, (ref FileSystemEntry entry) => entry.FileName.ToString(), ListingOptions))
        {
            if (normalized.Length == 0 && name == ReservedName)
            {
                continue;
            }

            if (names.Count == Options.MaxListEntries)
            {
                throw new FileXferException(ErrorCode.TooLarge, $"'{RemotePath.Escape(normalized)}' has more than {Options.MaxListEntries} entries (the server's --max-list-entries)");
            }

            names.Add(name);
        }

        var sorted = names.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return sorted;
    }

    /// <summary>
    /// Describes each name as it is enumerated: with one <c>statx</c> relative to the directory's handle where there is
    /// one (Linux), else through .NET. A link is described by its target, as <see cref="ToEntry"/> does; a name gone
    /// since it was read is left out.
    /// </summary>
    private IEnumerable<ListedEntry> Examine(SafeFileHandle? anchor, string directory, string[] names)
    {
        using (anchor)
        {
            foreach (var name in names)
            {
                RemoteEntry entry;
                if (anchor is not null)
                {
                    if (!Posix.TryStatAt(anchor, name, followLinks: false, out var status, out _))
                    {
                        continue;
                    }

                    if (status.IsSymbolicLink)
                    {
                        entry = ToEntry(name, new FileInfo(Path.Combine(directory, name)));
                    }
                    else
                    {
                        var kind = status.IsDirectory ? EntryKind.Directory : status.IsRegularFile ? EntryKind.File : EntryKind.Other;
                        entry = new RemoteEntry(name, kind, kind == EntryKind.File ? status.Size : 0, status.ModifiedUtc, status.PermissionBits);
                    }
                }
                else
                {
                    var info = new FileInfo(Path.Combine(directory, name));
                    if (!info.Exists && !Directory.Exists(info.FullName))
                    {
                        continue;
                    }

                    entry = ToEntry(name, Directory.Exists(info.FullName) ? new DirectoryInfo(info.FullName) : info);
                }

                // A name the protocol cannot carry (made locally on the server) is reported, never sent.
                yield return RemotePath.IsValidName(name, out var error) ? new ListedEntry(entry, null) : new ListedEntry(entry, error ?? "invalid name");
            }
        }
    }

    // Every entry, hidden ones too, and a directory that cannot be read is an error, as DirectoryInfo's own listing does.
    private static readonly EnumerationOptions ListingOptions = new() { AttributesToSkip = 0, IgnoreInaccessible = false };

    /// <summary>
    /// The whole tree below a directory, parents before children, names sorted within each directory; each
    /// entry is named by its path relative to <paramref name="path"/>. Streams: what it holds at any time is the
    /// names of the directories on the path being walked, whatever the size of the tree. Each directory is limited
    /// as in <see cref="List"/>; a directory that cannot be entered (a link leading out of the root, one removed
    /// meanwhile) is listed, not descended into.
    /// </summary>
    public IEnumerable<ListedEntry> ListTree(string path)
    {
        var normalized = RemotePath.Normalize(path);
        var pending = new Stack<(string Relative, IEnumerator<ListedEntry> Entries)>();
        pending.Push((string.Empty, List(normalized).GetEnumerator()));
        try
        {
            while (pending.Count > 0)
            {
                var (relative, entries) = pending.Peek();
                if (!entries.MoveNext())
                {
                    entries.Dispose();
                    pending.Pop();
                    continue;
                }

                var listed = entries.Current;
                var childRelative = RemotePath.Combine(relative, listed.Entry.Name);
                yield return listed with { Entry = listed.Entry with { Name = childRelative } };
                if (listed.Omitted is null && listed.Entry.Kind == EntryKind.Directory && new FileInfo(Path.Combine(Root, normalized, childRelative)).LinkTarget is null)
                {
                    IEnumerator<ListedEntry> children;
                    try
                    {
                        children = List(RemotePath.Combine(normalized, childRelative)).GetEnumerator();
                    }
                    catch (FileXferException ex) when (ex.Code is ErrorCode.AccessDenied or ErrorCode.NotFound)
                    {
                        // A link that leads out of the root, or a directory removed meanwhile: listed, not descended into.
                        continue;
                    }

                    pending.Push((childRelative, children));
                }
            }
        }
        finally
        {
            while (pending.Count > 0)
            {
                pending.Pop().Entries.Dispose();
            }
        }
    }

    /// <summary>Creates a directory with its parents, or sets the time and mode of an existing one.</summary>
    public RemoteEntry MakeDirectory(string path, DateTimeOffset? modified, int? mode)
    {
        var normalized = RemotePath.Normalize(path);
        var full = Resolve(normalized);
        if (normalized.Length > 0)
        {
            if (File.Exists(full))
            {
                throw new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(normalized)}' is a file");
            }

            CreateDirectories(normalized);
        }

        BeforeUse?.Invoke(normalized);
        Wrap(normalized, () =>
        {
            // Through the located handle (fchmod, futimens): the path may have been swapped for a link since.
            using var anchor = OpenVerifiedDirectory(normalized, full);
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

            return true;
        });
        return Describe(normalized, full);
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
        BeforeUse?.Invoke(normalized);
        Wrap(normalized, () =>
        {
            using var anchor = OpenVerifiedParent(normalized, full);
            var target = Below(anchor, full);
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

    /// <summary>
    /// Maps a normalized remote path to its local path, refusing the reserved folder and any symbolic link on
    /// the way whose real target is outside the root (or does not exist).
    /// </summary>
    internal string Resolve(string normalized) => ResolveWithState(normalized).FullPath;

    /// <summary>
    /// <see cref="Resolve"/>, also telling whether every parent is an existing directory and whether the last
    /// component is a directory, from one <c>lstat</c> per component.
    /// </summary>
    internal ResolvedPath ResolveWithState(string normalized)
    {
        if (normalized.Length == 0)
        {
            return new ResolvedPath(Root, ParentsExist: true, IsDirectory: true);
        }

        var parts = normalized.Split('/');
        if (parts[0] == ReservedName)
        {
            throw new FileXferException(ErrorCode.InvalidPath, $"'{ReservedName}' is reserved by the server");
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
                    throw LeadsOutside(normalized);
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

    internal bool IsInsideRoot(string realPath) =>
        realPath == Root || realPath.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>Inside the root and outside the reserved folder: a real path a client may reach.</summary>
    internal bool IsServable(string? realPath) =>
        realPath is not null && IsInsideRoot(realPath)
        && realPath != _reservedPath && !realPath.StartsWith(_reservedPath + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// Opens the directory that holds <paramref name="localPath"/> and checks where it really is, so the operation
    /// that follows (through <see cref="Below"/>) happens in that directory even if its path is changed meanwhile.
    /// Null where handles cannot be located (not Linux): the path itself is used then.
    /// </summary>
    internal SafeFileHandle? OpenVerifiedParent(string normalized, string localPath) =>
        OpenVerifiedDirectory(normalized, Path.GetDirectoryName(localPath)!);

    /// <summary>Opens a directory and checks that it really is inside the served tree; null where that cannot be checked.</summary>
    internal SafeFileHandle? OpenVerifiedDirectory(string normalized, string localDirectory)
    {
        if (!Posix.CanLocateHandles)
        {
            return null;
        }

        var handle = Posix.OpenDirectory(localDirectory);
        if (!IsServable(Posix.LocationOf(handle)))
        {
            handle.Dispose();
            throw LeadsOutside(normalized);
        }

        return handle;
    }

    /// <summary>The path of <paramref name="localPath"/>'s last component inside the directory held by <paramref name="anchor"/>.</summary>
    internal static string Below(SafeFileHandle? anchor, string localPath) =>
        anchor is null ? localPath : Path.Combine(Posix.HandlePath(anchor), Path.GetFileName(localPath));

    internal static FileXferException LeadsOutside(string normalized) =>
        new(ErrorCode.AccessDenied, $"'{RemotePath.Escape(normalized)}' leads outside the root through a symbolic link");

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

    private static FileXferException Translate(string normalized, Exception exception) => exception switch
    {
        FileNotFoundException or DirectoryNotFoundException => NotFound(normalized),
        UnauthorizedAccessException => new(ErrorCode.AccessDenied, $"permission denied on '{RemotePath.Escape(normalized)}'", exception),
        IOException io when DiskFull.Is(io) => new(ErrorCode.InsufficientStorage, "no space left on the server's storage", exception),
        _ => new(ErrorCode.Internal, $"storage error on '{RemotePath.Escape(normalized)}': {exception.Message}", exception),
    };

    /// <summary>Creates the missing directories above <paramref name="normalized"/>, each checked as it is made.</summary>
    internal void CreateParents(string normalized)
    {
        int slash = normalized.LastIndexOf('/');
        if (slash < 0)
        {
            return;
        }

        CreateDirectories(normalized[..slash]);
    }

    private void CreateDirectories(string directory)
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
            Wrap(prefix, () =>
            {
                using var anchor = OpenVerifiedParent(prefix, resolved.FullPath);
                return Directory.CreateDirectory(Below(anchor, resolved.FullPath));
            });
        }
    }

    private void EnsureSpace(long size)
    {
        // statfs once a second, or whenever the file is a large share of what was free: cheap for many small files.
        long now = Environment.TickCount64;
        long available = Interlocked.Read(ref _availableBytes);
        if (now - Interlocked.Read(ref _availableCheckedAt) > 1000 || size > available / 8)
        {
            try
            {
                available = new DriveInfo(Root).AvailableFreeSpace;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // The free-space probe is a courtesy; the write itself still fails cleanly on a full disk.
                return;
            }

            Interlocked.Exchange(ref _availableBytes, available);
            Interlocked.Exchange(ref _availableCheckedAt, now);
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
