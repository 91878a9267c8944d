using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Platform;

/// <summary>
/// How written files are made durable before they get their names: per file system, one <c>syncfs</c> for a group where
/// that is known to reach every file (<see cref="FileSystemTypes.TrustsSyncfs"/>, decided once per device), else an
/// <c>fsync</c> of each file, in parallel so that a group of small files costs about one journal commit, not one each.
/// </summary>
/// <param name="fileSystemType">The type of the file system that holds a file (<see cref="FileSystemTypes.Of"/>); null when unknown.</param>
/// <param name="fsync">Makes one file's data durable.</param>
/// <param name="syncfs">Makes every file of a file system durable, through any file of it.</param>
public sealed class SyncPolicy(Func<SafeFileHandle, long?> fileSystemType, Action<SafeFileHandle> fsync, Action<SafeFileHandle> syncfs)
{
    // A group of files fsynced at once: enough to keep a journal's commit busy, few enough threads.
    private const int MaxParallelFsyncs = 16;

    private readonly ConcurrentDictionary<ulong, bool> _trustedDevices = new();

    /// <summary>The real one: fstatfs, fsync(2) and syncfs(2).</summary>
    public static SyncPolicy Default { get; } = new(FileSystemTypes.Of, Durable.FsyncFile, Durable.SyncFileSystem);

    /// <summary>
    /// True when one <c>syncfs</c> through <paramref name="anyFile"/> makes every file of its file system durable;
    /// remembered per <paramref name="device"/> (0: unknown, asked each time).
    /// </summary>
    public bool TrustsSyncfs(SafeFileHandle anyFile, ulong device)
    {
        ArgumentNullException.ThrowIfNull(anyFile);
        if (device != 0 && _trustedDevices.TryGetValue(device, out bool known))
        {
            return known;
        }

        bool trusted = fileSystemType(anyFile) is { } type && FileSystemTypes.TrustsSyncfs(type);
        if (device != 0)
        {
            _trustedDevices.TryAdd(device, trusted);
        }

        return trusted;
    }

    /// <summary>
    /// Makes open, written files durable: one <c>syncfs</c> per trusted file system holding more than one of them, an
    /// <c>fsync</c> of each other file. <paramref name="device"/> is the file system they all lie on when the caller knows
    /// it; 0: they may lie on several, and each is examined.
    /// </summary>
    /// <exception cref="IOException">A flush failed; which files are durable is then unknown.</exception>
    public void FlushAll(IReadOnlyList<SafeFileHandle> files, ulong device = 0)
    {
        ArgumentNullException.ThrowIfNull(files);
        var each = new List<SafeFileHandle>();
        foreach (var (onDevice, group) in ByFileSystem(files, device))
        {
            if (group.Count > 1 && TrustsSyncfs(group[0], onDevice))
            {
                syncfs(group[0]);
            }
            else
            {
                each.AddRange(group);
            }
        }

        FsyncEach(each);
    }

    /// <summary>
    /// Makes files already closed durable: through <paramref name="directory"/> (a handle of the directory they are in,
    /// on <paramref name="device"/>) one <c>syncfs</c> where trusted, else each file opened again by its path and fsynced.
    /// </summary>
    /// <exception cref="IOException">A flush failed, or a file could not be opened again.</exception>
    public void FlushClosed(SafeFileHandle directory, ulong device, IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0)
        {
            return;
        }

        if (TrustsSyncfs(directory, device))
        {
            syncfs(directory);
            return;
        }

        InParallel(paths, path =>
        {
            using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            fsync(file);
        });
    }

    private void FsyncEach(IReadOnlyList<SafeFileHandle> files) => InParallel(files, fsync);

    private static void InParallel<T>(IReadOnlyList<T> items, Action<T> action)
    {
        if (items.Count <= 1)
        {
            foreach (var item in items)
            {
                action(item);
            }

            return;
        }

        try
        {
            Parallel.ForEach(items, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(items.Count, MaxParallelFsyncs) }, action);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerExceptions[0]);
        }
    }

    private static IEnumerable<(ulong Device, IReadOnlyList<SafeFileHandle> Files)> ByFileSystem(IReadOnlyList<SafeFileHandle> files, ulong device)
    {
        if (device != 0)
        {
            yield return (device, files);
            yield break;
        }

        var groups = new Dictionary<ulong, List<SafeFileHandle>>();
        foreach (var file in files)
        {
            if (Posix.TryStat(file, out var status, out _) && status.Device != 0)
            {
                if (!groups.TryGetValue(status.Device, out var group))
                {
                    groups[status.Device] = group = [];
                }

                group.Add(file);
            }
            else
            {
                // A file that cannot be examined is fsynced on its own, never skipped.
                yield return (0, [file]);
            }
        }

        foreach (var (onDevice, group) in groups)
        {
            yield return (onDevice, group);
        }
    }
}
