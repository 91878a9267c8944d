using System.Collections.Concurrent;
using System.Diagnostics;

namespace FileXfer.Client.Sync;

/// <summary>
/// Checks that what the server stores is what is here, by hash, without transferring file contents: each side
/// hashes its own copy (the server through pipelined hash requests, for a tree over several connections
/// (<see cref="Connect"/>); this side on all cores at once). Catches bit rot that left sizes and modification times
/// unchanged.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "A SemaphoreSlim without AvailableWaitHandle holds nothing to release.")]
public sealed partial class Verifier(FileXferClient client, string hashAlgorithm, PathFilter? filter = null)
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
