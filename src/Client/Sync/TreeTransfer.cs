using System.Collections.Concurrent;
using System.Diagnostics;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Paths;

namespace FileXfer.Client.Sync;

/// <summary>
/// Directory-tree transfers, the way backups need them: incremental (a file whose size and modification time
/// match is skipped, or with <see cref="TreeTransferOptions.Checksum"/> whose hash matches), pipelined, spread
/// over <see cref="TreeTransferOptions.Parallel"/> connections, going on past a failed file, and reporting each
/// item as it finishes. Library code: no console.
/// </summary>
public sealed class TreeTransfer
{
    private readonly Func<CancellationToken, Task<FileXferClient>> _connect;
    private readonly TreeTransferOptions _options;
    private readonly string _algorithm;

    public TreeTransfer(Func<CancellationToken, Task<FileXferClient>> connect, string hashAlgorithm, TreeTransferOptions? options = null)
    {
        _connect = connect ?? throw new ArgumentNullException(nameof(connect));
        _algorithm = hashAlgorithm ?? throw new ArgumentNullException(nameof(hashAlgorithm));
        _options = options ?? new TreeTransferOptions();
    }

    /// <summary>Uploads the contents of <paramref name="localDirectory"/> into <paramref name="remoteDirectory"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The local directory does not exist.</exception>
    /// <exception cref="FileXferException">A <c>--delete</c> guard refused, or the remote directory is a file.</exception>
    public async Task<TreeSummary> PutTreeAsync(string localDirectory, string remoteDirectory, Func<TreeEvent, ValueTask> onEvent, Action<long>? progress, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var remoteRoot = RemotePath.Normalize(remoteDirectory);
        var (local, problems) = LocalTree.Scan(localDirectory, _options.Filter);
        var report = new Reporter(onEvent);
        foreach (var (path, problem) in problems)
        {
            await report.EmitAsync(new TreeEvent("put", ItemStatus.Failed, Path.Combine(localDirectory, path), RemotePath.Combine(remoteRoot, path), 0, _algorithm, null, new IOException(problem)));
        }

        await using var main = await _connect(cancellationToken);
        var remote = await ListRemoteTreeAsync(main, remoteRoot, cancellationToken);
        var remoteByPath = remote?.ToDictionary(e => e.Name, StringComparer.Ordinal) ?? [];
        var localPaths = local.Select(e => e.RelativePath).ToHashSet(StringComparer.Ordinal);

        var missingDirectories = local.Where(e => e.Kind == EntryKind.Directory && !remoteByPath.ContainsKey(e.RelativePath)).ToList();
        var candidates = new List<LocalEntry>();
        var skipped = new List<LocalEntry>();
        foreach (var file in local.Where(e => e.Kind == EntryKind.File))
        {
            if (remoteByPath.TryGetValue(file.RelativePath, out var existing) && existing.Kind == EntryKind.File && existing.Size == file.Size
                && (_options.Checksum || existing.ModifiedUtc == file.ModifiedUtc))
            {
                skipped.Add(file);
            }
            else
            {
                candidates.Add(file);
            }
        }

        if (_options.Checksum)
        {
            var differing = await FindDifferingByHashAsync(main, skipped, remoteRoot, cancellationToken);
            candidates.AddRange(differing);
            var differ = differing.ToHashSet();
            skipped.RemoveAll(differ.Contains);
            candidates.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        }

        var deletions = _options.Delete ? PlanDeletions(local, remote ?? [], localPaths, problems) : [];

        foreach (var file in skipped)
        {
            await report.EmitAsync(new TreeEvent("put", ItemStatus.Skipped, Shown(localDirectory, file.RelativePath), RemotePath.Combine(remoteRoot, file.RelativePath), file.Size, _algorithm, null, null));
        }

        if (_options.DryRun)
        {
            foreach (var file in candidates)
            {
                await report.EmitAsync(new TreeEvent("put", ItemStatus.Transferred, Shown(localDirectory, file.RelativePath), RemotePath.Combine(remoteRoot, file.RelativePath), file.Size, _algorithm, null, null));
            }

            foreach (var path in deletions)
            {
                await report.EmitAsync(new TreeEvent("delete", ItemStatus.Deleted, null, RemotePath.Combine(remoteRoot, path), 0, _algorithm, null, null));
            }

            return report.Summary("put", started, dryRun: true);
        }

        main.RequireWriteAccess("put");
        if (remote is null && remoteRoot.Length > 0)
        {
            await main.MakeDirectoryAsync(remoteRoot, null, null, cancellationToken);
        }

        await main.MakeDirectoriesAsync(
            missingDirectories.Select(d => new RemoteEntry(RemotePath.Combine(remoteRoot, d.RelativePath), EntryKind.Directory, 0, default, null)),
            result => result.Succeeded ? ValueTask.CompletedTask : report.EmitAsync(new TreeEvent("put", ItemStatus.Failed, null, result.RemotePath, 0, _algorithm, null, result.Error)),
            cancellationToken);

        var items = candidates.Select(f => new TransferItem(Shown(localDirectory, f.RelativePath), RemotePath.Combine(remoteRoot, f.RelativePath))).ToList();
        _options.Planned?.Invoke(candidates.Count, candidates.Sum(f => f.Size));
        await RunSpreadAsync(main, items, (client, share) => client.PutBatchAsync(
            share,
            result => report.EmitAsync(new TreeEvent("put", result.Succeeded ? ItemStatus.Transferred : ItemStatus.Failed, result.LocalPath, result.RemotePath, result.Bytes, _algorithm, result.HashHex, result.Error)),
            progress,
            cancellationToken), cancellationToken);

        if (deletions.Count > 0)
        {
            await main.DeleteBatchAsync(
                deletions.Select(p => RemotePath.Combine(remoteRoot, p)),
                result => report.EmitAsync(new TreeEvent("delete", result.Succeeded ? ItemStatus.Deleted : ItemStatus.Failed, null, result.RemotePath, 0, _algorithm, null, result.Error)),
                cancellationToken);
        }

        // Directory times last, deepest first: adding and deleting entries changed them.
        var directoryTimes = local.Where(e => e.Kind == EntryKind.Directory).Reverse()
            .Select(d => d.ToRemote(RemotePath.Combine(remoteRoot, d.RelativePath)))
            .Append(DescribeTop(localDirectory, remoteRoot));
        await main.MakeDirectoriesAsync(directoryTimes, _ => ValueTask.CompletedTask, cancellationToken);

        return report.Summary("put", started, dryRun: false);
    }

    /// <summary>Downloads the contents of <paramref name="remoteDirectory"/> into <paramref name="localDirectory"/>.</summary>
    /// <exception cref="FileXferException">The remote directory does not exist (<see cref="ErrorCode.NotFound"/>).</exception>
    public async Task<TreeSummary> GetTreeAsync(string remoteDirectory, string localDirectory, Func<TreeEvent, ValueTask> onEvent, Action<long>? progress, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        var remoteRoot = RemotePath.Normalize(remoteDirectory);
        var report = new Reporter(onEvent);
        await using var main = await _connect(cancellationToken);
        var remote = await ListRemoteTreeAsync(main, remoteRoot, cancellationToken)
            ?? throw new FileXferException(ErrorCode.NotFound, $"'{RemotePath.Escape(remoteRoot)}' not found") { IsRemote = true };
        var wanted = remote.Where(e => e.Kind == EntryKind.Directory ? _options.Filter.IncludesDirectory(e.Name) : _options.Filter.IncludesFile(e.Name))
            .Where(e => !_options.Filter.IsBelowExcludedDirectory(e.Name))
            .ToList();

        var top = Path.GetFullPath(localDirectory);
        if (!_options.DryRun)
        {
            Directory.CreateDirectory(top);
        }

        var (localEntries, localProblems) = Directory.Exists(top) ? LocalTree.Scan(top, PathFilter.All) : ([], []);
        var localByPath = localEntries.ToDictionary(e => e.RelativePath, StringComparer.Ordinal);

        // What the destination holds besides its files and directories (links to directories, dangling links): a name
        // in neither set did not exist when it was scanned, so it cannot be a link to look at.
        var localOthers = localProblems.Select(p => p.Path).ToHashSet(StringComparer.Ordinal);

        // With --checksum, the files of equal size are compared by hash all at once: pipelined on the server,
        // in parallel here, rather than one round trip per file.
        var differing = _options.Checksum
            ? (await FindDifferingByHashAsync(main, [.. wanted.Where(e => e.Kind == EntryKind.File && localByPath.GetValueOrDefault(e.Name) is { Kind: EntryKind.File } l && l.Size == e.Size).Select(e => localByPath[e.Name])], remoteRoot, cancellationToken))
                .Select(l => l.RelativePath).ToHashSet(StringComparer.Ordinal)
            : null;

        var directories = new List<RemoteEntry>();
        var items = new List<TransferItem>();
        long plannedBytes = 0;
        var checkedDirectories = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in wanted)
        {
            var target = LocalTarget(top, entry.Name, checkedDirectories,
                lastMayBeLink: entry.Kind != EntryKind.File || localByPath.ContainsKey(entry.Name) || localOthers.Contains(entry.Name));
            var shown = Shown(localDirectory, entry.Name);
            var remotePath = RemotePath.Combine(remoteRoot, entry.Name);
            if (target.Problem is { } problem)
            {
                await report.EmitAsync(new TreeEvent("get", ItemStatus.Failed, shown, remotePath, 0, _algorithm, null, new IOException(problem)));
                continue;
            }

            if (entry.Kind == EntryKind.Directory)
            {
                if (!_options.DryRun)
                {
                    try
                    {
                        Directory.CreateDirectory(target.Path);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        // A file where the directory should be, or no permission: this directory fails, the rest goes on.
                        await report.EmitAsync(new TreeEvent("get", ItemStatus.Failed, shown, remotePath, 0, _algorithm, null, new IOException($"cannot create directory '{shown}': {ex.Message}", ex)));
                        continue;
                    }
                }

                directories.Add(entry);
            }
            else if (entry.Kind == EntryKind.File)
            {
                if (localByPath.TryGetValue(entry.Name, out var existing) && existing.Kind == EntryKind.File && existing.Size == entry.Size
                    && (differing is not null ? !differing.Contains(entry.Name) : existing.ModifiedUtc == entry.ModifiedUtc))
                {
                    await report.EmitAsync(new TreeEvent("get", ItemStatus.Skipped, shown, remotePath, entry.Size, _algorithm, null, null));
                }
                else if (_options.DryRun)
                {
                    await report.EmitAsync(new TreeEvent("get", ItemStatus.Transferred, shown, remotePath, entry.Size, _algorithm, null, null));
                }
                else
                {
                    // The checked path, as the user wrote its directory (the working directory does not change meanwhile).
                    items.Add(new TransferItem(shown, remotePath));
                    plannedBytes += entry.Size;
                }
            }
        }

        if (!_options.DryRun)
        {
            _options.Planned?.Invoke(items.Count, plannedBytes);
            await RunSpreadAsync(main, items, (client, share) => client.GetBatchAsync(
                share,
                result => report.EmitAsync(new TreeEvent("get", result.Succeeded ? ItemStatus.Transferred : ItemStatus.Failed, result.LocalPath, result.RemotePath, result.Bytes, _algorithm, result.HashHex, result.Error)),
                progress,
                cancellationToken), cancellationToken);

            foreach (var directory in Enumerable.Reverse(directories))
            {
                SetDirectoryAttributes(LocalTarget(top, directory.Name).Path, directory);
            }

            // The top directory too, as put -r sets it on the server.
            if (remoteRoot.Length > 0)
            {
                SetDirectoryAttributes(top, await main.StatAsync(remoteRoot, cancellationToken));
            }
        }

        return report.Summary("get", started, _options.DryRun);
    }

    /// <summary>
    /// Where a remote relative path lands below <paramref name="top"/>. The client decides every local path
    /// itself and never writes through a symbolic link inside the destination. Directories found not to be links
    /// are remembered in <paramref name="checkedDirectories"/>, when given, and not looked at again for the next
    /// entries of one plan; the last component is not looked at when <paramref name="lastMayBeLink"/> is false (the
    /// destination's scan did not find it).
    /// </summary>
    internal static (string Path, string? Problem) LocalTarget(string top, string relative, HashSet<string>? checkedDirectories = null, bool lastMayBeLink = true)
    {
        var full = Path.GetFullPath(Path.Combine(top, relative.Replace('/', Path.DirectorySeparatorChar)));
        if (!full.StartsWith(top.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return (full, "the server named a path outside the destination");
        }

        var current = top;
        var parts = relative.Split('/');
        for (int i = 0; i < parts.Length; i++)
        {
            current = Path.Combine(current, parts[i]);
            bool last = i == parts.Length - 1;
            if (last ? !lastMayBeLink : checkedDirectories?.Contains(current) == true)
            {
                continue;
            }

            if (new FileInfo(current).LinkTarget is not null)
            {
                return (full, "the destination holds a symbolic link on this path; not written through it");
            }

            if (!last)
            {
                checkedDirectories?.Add(current);
            }
        }

        return (full, null);
    }

    /// <summary>A local path as the user gave its top directory, so output shows paths the way they were typed.</summary>
    private static string Shown(string localDirectory, string relative) =>
        Path.Join(localDirectory, relative.Replace('/', Path.DirectorySeparatorChar));

    private static void SetDirectoryAttributes(string path, RemoteEntry entry)
    {
        if (entry.Mode is { } mode && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)(mode & 0x1FF) | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Directory.SetLastWriteTimeUtc(path, entry.ModifiedUtc.UtcDateTime);
    }

    private static RemoteEntry DescribeTop(string localDirectory, string remoteRoot)
    {
        var info = new DirectoryInfo(localDirectory);
        return new RemoteEntry(remoteRoot, EntryKind.Directory, 0, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero), OperatingSystem.IsWindows() ? null : (int)info.UnixFileMode);
    }

    private List<string> PlanDeletions(IReadOnlyList<LocalEntry> local, IReadOnlyList<RemoteEntry> remote, HashSet<string> localPaths, IReadOnlyList<(string Path, string Problem)> problems)
    {
        if (local.Count == 0)
        {
            throw new FileXferException(ErrorCode.BadRequest, "the source directory is empty; refusing to --delete everything on the server");
        }

        var deletions = remote
            .Where(e => !localPaths.Contains(e.Name))
            .Where(e => e.Kind == EntryKind.Directory ? _options.Filter.IncludesDirectory(e.Name) : _options.Filter.IncludesFile(e.Name))
            .Where(e => !_options.Filter.IsBelowExcludedDirectory(e.Name))
            .Where(e => !problems.Any(p => IsAtOrBelow(e.Name, p.Path)))
            .Select(e => e.Name)
            .ToList();

        // Children before their directories.
        deletions.Sort((a, b) => b.Count(c => c == '/').CompareTo(a.Count(c => c == '/')) is var depth and not 0 ? depth : string.CompareOrdinal(a, b));
        if (deletions.Count > _options.MaxDelete && !_options.DryRun)
        {
            throw new FileXferException(ErrorCode.BadRequest, $"{deletions.Count} deletions planned, more than --max-delete {_options.MaxDelete}; nothing was deleted");
        }

        return deletions;

        // What the walk could not read (a directory it may not list, a link to a directory) is absent from the
        // local tree without being gone: its copy on the server stays, as rsync skips deletions after an I/O error.
        static bool IsAtOrBelow(string path, string top) =>
            path.StartsWith(top, StringComparison.Ordinal) && (path.Length == top.Length || path[top.Length] == '/');
    }

    private async Task<List<LocalEntry>> FindDifferingByHashAsync(FileXferClient client, List<LocalEntry> files, string remoteRoot, CancellationToken cancellationToken)
    {
        var remoteHashes = new ConcurrentDictionary<string, byte[]?>(StringComparer.Ordinal);
        var remoteTask = client.HashBatchAsync(
            files.Select(f => RemotePath.Combine(remoteRoot, f.RelativePath)),
            result =>
            {
                remoteHashes[result.RemotePath] = result.Hash;
                return ValueTask.CompletedTask;
            },
            cancellationToken);
        var localHashes = new ConcurrentDictionary<string, byte[]?>(StringComparer.Ordinal);
        var localTask = Parallel.ForEachAsync(files, cancellationToken, async (file, token) =>
        {
            try
            {
                localHashes[file.RelativePath] = await LocalHasher.HashFileAsync(file.FullPath, _algorithm, token);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Unreadable here means "send it": the upload will report the real error for this file.
                localHashes[file.RelativePath] = null;
            }
        });
        await Task.WhenAll(remoteTask, localTask);
        return files.Where(f =>
            localHashes.GetValueOrDefault(f.RelativePath) is not { } mine
            || remoteHashes.GetValueOrDefault(RemotePath.Combine(remoteRoot, f.RelativePath)) is not { } theirs
            || !mine.AsSpan().SequenceEqual(theirs)).ToList();
    }

    /// <summary>The remote tree below <paramref name="remoteRoot"/>, or null when it does not exist.</summary>
    private static async Task<IReadOnlyList<RemoteEntry>?> ListRemoteTreeAsync(FileXferClient client, string remoteRoot, CancellationToken cancellationToken)
    {
        try
        {
            return await client.ListTreeAsync(remoteRoot, cancellationToken);
        }
        catch (FileXferException ex) when (ex.Code == ErrorCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Spreads items over the main connection and up to <see cref="TreeTransferOptions.Parallel"/> - 1 more, each taking the next item when it is ready.</summary>
    private async Task RunSpreadAsync(FileXferClient main, List<TransferItem> items, Func<FileXferClient, IEnumerable<TransferItem>, Task> work, CancellationToken cancellationToken)
    {
        if (items.Count == 0)
        {
            return;
        }

        var queue = new ConcurrentQueue<TransferItem>(items);
        int extra = Math.Clamp(Math.Min(_options.Parallel, items.Count) - 1, 0, 63);
        var extras = new List<FileXferClient>();
        try
        {
            for (int i = 0; i < extra; i++)
            {
                extras.Add(await _connect(cancellationToken));
            }

            await Task.WhenAll(extras.Prepend(main).Select(client => work(client, Drain(queue))));
        }
        finally
        {
            foreach (var client in extras)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static IEnumerable<T> Drain<T>(ConcurrentQueue<T> queue)
    {
        while (queue.TryDequeue(out var item))
        {
            yield return item;
        }
    }

    /// <summary>Counts outcomes and hands events on one at a time, whichever connection they come from.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "A SemaphoreSlim without AvailableWaitHandle holds nothing to release.")]
    private sealed class Reporter(Func<TreeEvent, ValueTask> onEvent)
    {
        private readonly SemaphoreSlim _lock = new(1, 1);
        private int _transferred;
        private int _skipped;
        private int _failed;
        private int _deleted;
        private long _bytes;
        private bool _integrity;

        public async ValueTask EmitAsync(TreeEvent item)
        {
            await _lock.WaitAsync();
            try
            {
                switch (item.Status)
                {
                    case ItemStatus.Transferred:
                        _transferred++;
                        _bytes += item.Bytes;
                        break;
                    case ItemStatus.Skipped:
                        _skipped++;
                        break;
                    case ItemStatus.Deleted:
                        _deleted++;
                        break;
                    default:
                        _failed++;
                        _integrity |= item.IsIntegrityFailure;
                        break;
                }

                await onEvent(item);
            }
            finally
            {
                _lock.Release();
            }
        }

        public TreeSummary Summary(string operation, long started, bool dryRun) =>
            new(operation, _transferred, _skipped, _failed, _deleted, _bytes, Stopwatch.GetElapsedTime(started), dryRun, _integrity);
    }
}
