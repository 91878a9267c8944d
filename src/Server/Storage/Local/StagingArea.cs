using System.Collections.Concurrent;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// The staging area (<c>ROOT/.filexfer/staging</c>): temp files of uploads in progress, named there until their
/// commit, and the partials of resumable uploads kept under their keys; which of them are in use, and the sweep
/// of those a crash or a vanished client left behind. One per server, shared by every subtree.
/// </summary>
internal sealed class StagingArea
{
    public const string TempSuffix = ".part";
    public const string ResumableSuffix = ".resume";

    // Temp names: unique in this process by the counter, between processes by the prefix; O_EXCL refuses a clash.
    private static readonly string s_tempPrefix = Guid.NewGuid().ToString("N")[..16];
    private static long s_tempCounter;

    // A partial in use maps to its upload's hold on it.
    private readonly ConcurrentDictionary<string, ResumeClaim> _resumesInUse = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _tempsInUse = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;

    /// <summary>Makes (when missing) and checks the staging area <paramref name="directory"/>, and opens it where handles can be located.</summary>
    /// <exception cref="UnsafeDirectoryException">The directory is not the server's alone.</exception>
    public StagingArea(string directory, TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        Directory = directory;
        RootSafety.CreatePrivateDirectory(directory);
        Handle = Posix.CanLocateHandles ? Posix.OpenDirectory(directory) : null;
        Device = Handle is not null && Posix.TryStat(Handle, out var staging, out _) ? staging.Device : 0;
    }

    /// <summary>Where the staging area is.</summary>
    public string Directory { get; }

    /// <summary>The staging area held open, so temp files are created and renamed relative to it (Linux); else null.</summary>
    public SafeFileHandle? Handle { get; }

    /// <summary>The file system the staging area is on; 0 when unknown.</summary>
    public ulong Device { get; }

    /// <summary>A fresh temp name, unique among every server process.</summary>
    public static string NewTempName() => $"{s_tempPrefix}{Interlocked.Increment(ref s_tempCounter):x}{TempSuffix}";

    /// <summary>
    /// Creates a fresh named temp file, registered as in use (before it exists, so a concurrent sweep cannot take it)
    /// until <paramref name="release"/> runs.
    /// </summary>
    public InlineFileStream CreateTemp(string normalized, out string tempPath, out Action release)
    {
        var tempName = NewTempName();
        var path = Path.Combine(Directory, tempName);
        _tempsInUse.TryAdd(path, true);
        try
        {
            var stream = StorageErrors.Wrap(normalized, () => Handle is null ? InlineFileStream.CreateNew(path) : InlineFileStream.CreateNewAt(Handle, tempName));
            tempPath = path;
            release = () => _tempsInUse.TryRemove(path, out _);
            return stream;
        }
        catch
        {
            _tempsInUse.TryRemove(path, out _);
            throw;
        }
    }

    /// <summary>
    /// Creates a fresh named temp file for reading and writing (a ranged upload's, which hashes what its ranges wrote),
    /// registered as in use until <paramref name="release"/> runs. Like every temp file, the sweep at the next start
    /// removes it when the server stopped without committing it.
    /// </summary>
    public InlineFileStream CreateTempReadWrite(string normalized, out string tempPath, out Action release)
    {
        var path = Path.Combine(Directory, NewTempName());
        _tempsInUse.TryAdd(path, true);
        try
        {
            var stream = StorageErrors.Wrap(normalized, () => InlineFileStream.OpenResumable(path));
            tempPath = path;
            release = () => _tempsInUse.TryRemove(path, out _);
            return stream;
        }
        catch
        {
            _tempsInUse.TryRemove(path, out _);
            throw;
        }
    }

    /// <summary>Where the partial of <paramref name="name"/> (a resume name) is kept.</summary>
    public string ResumablePath(string name) => Path.Combine(Directory, name + ResumableSuffix);

    /// <summary>Claims the partial of <paramref name="name"/> for one upload; false when another upload holds it.</summary>
    public bool TryClaim(string name, ResumeClaim claim) => _resumesInUse.TryAdd(name, claim);

    /// <summary>The upload's hold on the partial of <paramref name="name"/>, when one holds it.</summary>
    public ResumeClaim? Holder(string name) => _resumesInUse.TryGetValue(name, out var holder) ? holder : null;

    /// <summary>Lets go of a claim, for the next upload of that key.</summary>
    public void Release(string name, ResumeClaim claim)
    {
        _resumesInUse.TryRemove(KeyValuePair.Create(name, claim));
        claim.Release();
    }

    /// <summary>
    /// Removes temp files of uploads that cannot resume (left by a crash), and partial uploads kept for resuming
    /// that have not been touched for <paramref name="partialMaxAge"/>. Partials in use are left alone.
    /// </summary>
    public int RemoveStaleUploads(TimeSpan partialMaxAge)
    {
        int removed = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*" + TempSuffix))
        {
            if (!_tempsInUse.ContainsKey(file))
            {
                File.Delete(file);
                removed++;
            }
        }

        var cutoff = _timeProvider.GetUtcNow().UtcDateTime - partialMaxAge;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*" + ResumableSuffix))
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
                    Release(key, claim);
                }
            }
        }

        return removed;
    }
}
