using System.Collections.Concurrent;
using System.Diagnostics;

namespace FileXfer.Client.Sync;

/// <summary>
/// Checks that what the server stores is what is here, by hash, without transferring file contents: each side
/// hashes its own copy (the server through pipelined hash requests, this side on all cores at once). Catches bit
/// rot that left sizes and modification times unchanged.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "A SemaphoreSlim without AvailableWaitHandle holds nothing to release.")]
public sealed class Verifier(FileXferClient client, string hashAlgorithm, PathFilter? filter = null)
{
    private readonly PathFilter _filter = filter ?? PathFilter.All;

    /// <summary>Compares one local file with one remote file.</summary>
    public async Task<VerifySummary> VerifyFileAsync(string localPath, string remotePath, Func<VerifyEvent, ValueTask> onEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onEvent);
        long started = Stopwatch.GetTimestamp();
        var remote = RemotePath.Normalize(remotePath);
        var localHash = Convert.ToHexStringLower(await LocalHasher.HashFileAsync(localPath, hashAlgorithm, cancellationToken));
        VerifyEvent result;
        try
        {
            var remoteHash = (await client.HashAsync(remote, hashAlgorithm, cancellationToken)).HashHex;
            result = new VerifyEvent(localHash == remoteHash ? VerifyStatus.Identical : VerifyStatus.Differs, localPath, remote, hashAlgorithm, localHash, remoteHash, null);
        }
        catch (FileXferException ex) when (ex.Code == ErrorCode.NotFound)
        {
            result = new VerifyEvent(VerifyStatus.MissingOnServer, localPath, remote, hashAlgorithm, localHash, null, null);
        }

        var counts = new Counts();
        counts.Add(result);
        await onEvent(result);
        return counts.Summary(started);
    }

    /// <summary>
    /// Compares every file below a local directory with the tree below a remote one, walking both one directory at
    /// a time; events come in walk order, each directory's once its files are compared.
    /// </summary>
    public async Task<VerifySummary> VerifyTreeAsync(string localDirectory, string remoteDirectory, Func<VerifyEvent, ValueTask> onEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onEvent);
        long started = Stopwatch.GetTimestamp();
        var remoteRoot = RemotePath.Normalize(remoteDirectory);
        var top = Path.GetFullPath(localDirectory);
        if (!Directory.Exists(top))
        {
            throw new DirectoryNotFoundException($"'{localDirectory}' is not a directory");
        }

        bool remoteExists;
        try
        {
            remoteExists = (await client.StatAsync(remoteRoot, cancellationToken)).Kind == EntryKind.Directory;
        }
        catch (FileXferException ex) when (ex.Code == ErrorCode.NotFound)
        {
            remoteExists = false;
        }

        var counts = new Counts();
        await using var requests = client.StartRequestQueue(cancellationToken);
        await InWalkOrder<VerifyEvent>.WalkAsync(
            new DirectoryJob(string.Empty, Local: true, Remote: remoteExists),
            top,
            remoteRoot,
            requests,
            pair => CompareDirectory(pair, localDirectory, top, remoteRoot, requests, cancellationToken),
            item =>
            {
                counts.Add(item);
                return onEvent(item);
            },
            cancellationToken);
        await requests.CompleteAsync();
        return counts.Summary(started);
    }

    /// <summary>One directory of both sides: its events (the comparisons still running) and the directories below it.</summary>
    private (Task<List<VerifyEvent>> Events, IReadOnlyList<DirectoryJob> Children) CompareDirectory(DirectoryPair pair, string localDirectory, string top, string remoteRoot, RequestQueue requests, CancellationToken cancellationToken)
    {
        var job = pair.Job;
        var children = new List<DirectoryJob>();
        var events = new List<Task<VerifyEvent>>();
        string Shown(string path) => Path.Join(localDirectory, path.Replace('/', Path.DirectorySeparatorChar));
        if ((pair.LocalError ?? pair.RemoteError) is { } error && error is not FileXferException { Code: ErrorCode.NotFound })
        {
            events.Add(Task.FromResult(new VerifyEvent(VerifyStatus.Failed, Shown(job.Relative), RemotePath.Combine(remoteRoot, job.Relative), hashAlgorithm, null, null, error)));
            return (Collect(events), children);
        }

        foreach (var omitted in pair.Remote?.Omitted ?? [])
        {
            events.Add(Task.FromResult(new VerifyEvent(VerifyStatus.Failed, null, pair.Remote!.Path, hashAlgorithm, null, null, omitted.ToException())));
        }

        foreach (var (name, l, r) in TreeWalk.Merge(pair.Local ?? [], e => e.Name, pair.Remote?.Entries ?? [], e => e.Name))
        {
            var path = RemotePath.Combine(job.Relative, name);
            var remotePath = RemotePath.Combine(remoteRoot, path);
            var localKind = l?.Kind;
            var remoteKind = r?.Kind;
            bool localIsDirectory = localKind == EntryKind.Directory;
            bool remoteIsDirectory = remoteKind == EntryKind.Directory;
            if (localIsDirectory || remoteIsDirectory)
            {
                if (_filter.IncludesDirectory(path))
                {
                    children.Add(new DirectoryJob(path, localIsDirectory, remoteIsDirectory));
                }

                if (localIsDirectory == remoteIsDirectory || !_filter.IncludesFile(path))
                {
                    continue;
                }
            }

            if (!_filter.IncludesFile(path))
            {
                continue;
            }

            if (l?.Problem is { } problem)
            {
                events.Add(Task.FromResult(new VerifyEvent(VerifyStatus.Failed, Shown(path), remotePath, hashAlgorithm, null, null, new IOException(problem))));
            }
            else if (localKind == EntryKind.File && remoteKind == EntryKind.File)
            {
                events.Add(CompareFileAsync(top, path, Shown(path), remotePath, requests, cancellationToken));
            }
            else if (localKind == EntryKind.File)
            {
                events.Add(Task.FromResult(new VerifyEvent(VerifyStatus.MissingOnServer, Shown(path), remotePath, hashAlgorithm, null, null, null)));
            }
            else if (remoteKind == EntryKind.File)
            {
                events.Add(Task.FromResult(new VerifyEvent(VerifyStatus.OnlyOnServer, null, remotePath, hashAlgorithm, null, null, null)));
            }
        }

        return (Collect(events), children);
    }

    private static async Task<List<VerifyEvent>> Collect(List<Task<VerifyEvent>> events) => [.. await Task.WhenAll(events)];

    private async Task<VerifyEvent> CompareFileAsync(string top, string path, string shown, string remotePath, RequestQueue requests, CancellationToken cancellationToken)
    {
        var remote = requests.HashAsync(remotePath);
        (string? Hex, Exception? Error) local;
        await _localHashing.WaitAsync(cancellationToken);
        try
        {
            local = (Convert.ToHexStringLower(await Task.Run(() => LocalHasher.HashFileAsync(Path.Join(top, path), hashAlgorithm, cancellationToken), cancellationToken)), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            local = (null, ex);
        }
        finally
        {
            _localHashing.Release();
        }

        var result = await remote;
        return Compare(shown, remotePath, local, (result.HashHex, result.Error));
    }

    // Local files are hashed this many at a time: all cores busy, without a thread per file of a wide directory.
    private readonly SemaphoreSlim _localHashing = new(Math.Max(2, Environment.ProcessorCount * 2));

    /// <summary>
    /// Checks a manifest in the coreutils format (<c>HEX  PATH</c> lines, as <c>sha256sum</c> and
    /// <c>filexfer hash -r</c> write them) against the files below a remote directory.
    /// </summary>
    public async Task<VerifySummary> VerifySumsAsync(IReadOnlyList<(string Path, string HashHex)> manifest, string remoteDirectory, Func<VerifyEvent, ValueTask> onEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(onEvent);
        long started = Stopwatch.GetTimestamp();
        var remoteRoot = RemotePath.Normalize(remoteDirectory);
        var remoteHashes = new ConcurrentDictionary<string, BatchItemResult>(StringComparer.Ordinal);
        var valid = new List<(string Path, string HashHex, string Remote)>();
        var events = new List<(string Key, VerifyEvent Event)>();
        foreach (var (path, hash) in manifest)
        {
            var relative = path.StartsWith("./", StringComparison.Ordinal) ? path[2..] : path;
            string? error = relative.StartsWith('/') ? "absolute" : null;
            if (error is not null || !RemotePath.TryNormalize(relative, out var normalized, out error) || normalized.Length == 0)
            {
                events.Add((path, new VerifyEvent(VerifyStatus.Failed, path, relative, hashAlgorithm, hash, null, new FileXferException(ErrorCode.InvalidPath, $"manifest path '{RemotePath.Escape(path)}' is not a relative path: {error ?? "empty"}"))));
                continue;
            }

            valid.Add((path, hash.ToLowerInvariant(), RemotePath.Combine(remoteRoot, normalized)));
        }

        await client.HashBatchAsync(valid.Select(v => v.Remote), result =>
        {
            remoteHashes[result.RemotePath] = result;
            return ValueTask.CompletedTask;
        }, cancellationToken);

        foreach (var (path, hash, remote) in valid)
        {
            var result = remoteHashes[remote];
            events.Add((path, result.Error switch
            {
                null => new VerifyEvent(result.HashHex == hash ? VerifyStatus.Identical : VerifyStatus.Differs, path, remote, hashAlgorithm, hash, result.HashHex, null),
                FileXferException { Code: ErrorCode.NotFound } => new VerifyEvent(VerifyStatus.MissingOnServer, path, remote, hashAlgorithm, hash, null, null),
                var error => new VerifyEvent(VerifyStatus.Failed, path, remote, hashAlgorithm, hash, null, error),
            }));
        }

        return await ReportAsync(events, onEvent, started);
    }

    private VerifyEvent Compare(string localPath, string remotePath, (string? Hex, Exception? Error) local, (string? Hex, Exception? Error) remote) =>
        (local.Error ?? remote.Error) is { } error
            ? remote.Error is FileXferException { Code: ErrorCode.NotFound }
                ? new VerifyEvent(VerifyStatus.MissingOnServer, localPath, remotePath, hashAlgorithm, local.Hex, null, null)
                : new VerifyEvent(VerifyStatus.Failed, localPath, remotePath, hashAlgorithm, local.Hex, remote.Hex, error)
            : new VerifyEvent(local.Hex == remote.Hex ? VerifyStatus.Identical : VerifyStatus.Differs, localPath, remotePath, hashAlgorithm, local.Hex, remote.Hex, null);

    private static async Task<VerifySummary> ReportAsync(List<(string Key, VerifyEvent Event)> events, Func<VerifyEvent, ValueTask> onEvent, long started)
    {
        var counts = new Counts();
        foreach (var (_, item) in events.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            counts.Add(item);
            await onEvent(item);
        }

        return counts.Summary(started);
    }

    private sealed class Counts
    {
        private readonly int[] _byStatus = new int[Enum.GetValues<VerifyStatus>().Length];

        public void Add(VerifyEvent item) => _byStatus[(int)item.Status]++;

        public VerifySummary Summary(long started) => new(
            _byStatus[(int)VerifyStatus.Identical],
            _byStatus[(int)VerifyStatus.Differs],
            _byStatus[(int)VerifyStatus.MissingOnServer],
            _byStatus[(int)VerifyStatus.OnlyOnServer],
            _byStatus[(int)VerifyStatus.Failed],
            Stopwatch.GetElapsedTime(started));
    }
}
