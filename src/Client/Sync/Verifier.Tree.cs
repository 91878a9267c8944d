using System.Diagnostics;

namespace FileXfer.Client.Sync;

/// <summary><c>verify -r</c>: a local tree against a remote one, the server's hashes spread over several connections.</summary>
public sealed partial class Verifier
{
    // Local files are hashed this many at a time: all cores busy, without a thread per file of a wide directory.
    private readonly SemaphoreSlim _localHashing = new(Math.Max(2, Environment.ProcessorCount * 2));

    /// <summary>
    /// Opens the connections a tree's remote hashes are spread over (<see cref="VerifyTreeAsync"/>), connections of the
    /// same server as the client this verifier was given, which keeps listing. Null (the default): that client carries
    /// the hashes too, behind its listings, and the server hashes one file at a time.
    /// </summary>
    public Func<CancellationToken, Task<FileXferClient>>? Connect { get; init; }

    /// <summary>
    /// How many connections <see cref="Connect"/> opens for a tree's hashes, as <see cref="TreeTransferOptions.Parallel"/>
    /// spreads a tree's files. Default: <see cref="TreeTransferOptions.DefaultParallel"/>.
    /// </summary>
    public int Parallel { get; init; } = TreeTransferOptions.DefaultParallel;

    /// <summary>
    /// How many when the listing connection's round trip is at least <see cref="TreeTransferOptions.LongLinkRoundTrip"/>,
    /// if more than <see cref="Parallel"/> (the rule of <see cref="TreeTransferOptions.LongLinkParallel"/>). Default:
    /// <see cref="TreeTransferOptions.DefaultLongLinkParallel"/>.
    /// </summary>
    public int LongLinkParallel { get; init; } = TreeTransferOptions.DefaultLongLinkParallel;

    /// <summary>
    /// Compares every file below a local directory with the tree below a remote one, walking both one directory at
    /// a time; events come in walk order (a directory's files in name order, then the directories below it), each once
    /// its file is compared and every event before it was handed on. At most a window of comparisons runs at once,
    /// whatever the number of files. A connection of <see cref="Connect"/> that fails gives its unanswered hashes to the
    /// others; a file is reported identical only when both hashes were read and match.
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
        await using var hashes = new HashConnections(requests, remoteExists ? Connect : null, HashConnectionCount(), cancellationToken);
        await InWalkOrder<VerifyEvent>.WalkAsync(
            new DirectoryJob(string.Empty, Local: true, Remote: remoteExists),
            top,
            remoteRoot,
            requests,
            hashes.Window,
            (pair, add) => CompareDirectoryAsync(pair, localDirectory, top, remoteRoot, hashes, add, cancellationToken),
            item =>
            {
                counts.Add(item);
                return onEvent(item);
            },
            cancellationToken);
        await hashes.CompleteAsync();
        await requests.CompleteAsync();
        return counts.Summary(started);
    }

    /// <summary>The connections for the server's hashes: <see cref="Parallel"/>, or on a long link <see cref="LongLinkParallel"/> if more.</summary>
    private int HashConnectionCount()
    {
        int connections = Math.Clamp(Parallel, 1, 64);
        return client.RoundTrip >= TreeTransferOptions.LongLinkRoundTrip ? Math.Max(connections, Math.Clamp(LongLinkParallel, 1, 64)) : connections;
    }

    /// <summary>One directory of both sides: its events (the comparisons started) added in order; returns the directories below it.</summary>
    private async ValueTask<IReadOnlyList<DirectoryJob>> CompareDirectoryAsync(DirectoryPair pair, string localDirectory, string top, string remoteRoot, HashConnections hashes, Func<Task<VerifyEvent>, ValueTask> add, CancellationToken cancellationToken)
    {
        var job = pair.Job;
        var children = new List<DirectoryJob>();
        string Shown(string path) => Path.Join(localDirectory, path.Replace('/', Path.DirectorySeparatorChar));
        if ((pair.LocalError ?? pair.RemoteError) is { } error && error is not FileXferException { Code: ErrorCode.NotFound })
        {
            await add(Task.FromResult(new VerifyEvent(VerifyStatus.Failed, Shown(job.Relative), RemotePath.Combine(remoteRoot, job.Relative), hashAlgorithm, null, null, error)));
            return children;
        }

        foreach (var omitted in pair.Remote?.Omitted ?? [])
        {
            await add(Task.FromResult(new VerifyEvent(VerifyStatus.Failed, null, pair.Remote!.Path, hashAlgorithm, null, null, omitted.ToException())));
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
                await add(Task.FromResult(new VerifyEvent(VerifyStatus.Failed, Shown(path), remotePath, hashAlgorithm, null, null, new IOException(problem))));
            }
            else if (localKind == EntryKind.File && remoteKind == EntryKind.File)
            {
                await add(CompareFileAsync(top, path, Shown(path), remotePath, hashes, cancellationToken));
            }
            else if (localKind == EntryKind.File)
            {
                await add(Task.FromResult(new VerifyEvent(VerifyStatus.MissingOnServer, Shown(path), remotePath, hashAlgorithm, null, null, null)));
            }
            else if (remoteKind == EntryKind.File)
            {
                await add(Task.FromResult(new VerifyEvent(VerifyStatus.OnlyOnServer, null, remotePath, hashAlgorithm, null, null, null)));
            }
        }

        return children;
    }

    private async Task<VerifyEvent> CompareFileAsync(string top, string path, string shown, string remotePath, HashConnections hashes, CancellationToken cancellationToken)
    {
        var remote = hashes.HashAsync(remotePath);
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
}
