using System.Threading.Channels;

namespace FileXfer.Client.Sync;

/// <summary><c>get -r</c>: a remote directory into a local one.</summary>
public sealed partial class TreeTransfer
{
    private readonly HashSet<string> _failedDirectories = new(StringComparer.Ordinal);

    /// <summary>Downloads the contents of <paramref name="remoteDirectory"/> into <paramref name="localDirectory"/>.</summary>
    /// <exception cref="FileXferException">The remote directory does not exist (<see cref="ErrorCode.NotFound"/>) or is a file.</exception>
    public async Task<TreeSummary> GetTreeAsync(string remoteDirectory, string localDirectory, Func<TreeEvent, ValueTask> onEvent, Action<long>? progress, CancellationToken cancellationToken)
    {
        var remoteRoot = RemotePath.Normalize(remoteDirectory);
        Progress.BeginAttempt();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var attempt = new Attempt(this, "get", onEvent, stop);
        // On a long link the extra connections open once the run's first TCP handshake measured it (UseLink).
        using var link = _options.Run?.OnLinkMeasured(attempt.UseLink);
        // The transfer connections open now, beside the listing connection (on a retry just after it, see BeginAttempt),
        // not after the walk found files: their handshakes and authentication overlap its own and the listing of the
        // top (docs/performance/issue-17-wan-bed.md, "Latency-aware trees").
        bool beside = BeginAttempt();
        if (!_options.DryRun && beside)
        {
            attempt.PrestartTransfers((client, reader) => GetWorkAsync(attempt, client, reader, progress));
        }

        await using var main = await _connect(stop.Token);
        attempt.UseLink(main.RoundTrip);
        if (!_options.DryRun && !beside)
        {
            attempt.PrestartTransfers((client, reader) => GetWorkAsync(attempt, client, reader, progress));
        }

        // The top's description and its listing in one round trip.
        attempt.Requests = main.StartRequestQueue(stop.Token);
        var listTop = attempt.Requests.ListAsync(remoteRoot);
        RemoteEntry remoteTop;
        try
        {
            remoteTop = await attempt.Requests.StatAsync(remoteRoot);
        }
        catch (FileXferException)
        {
            await ObserveAsync(listTop);
            throw;
        }

        if (remoteTop.Kind != EntryKind.Directory)
        {
            await ObserveAsync(listTop);
            throw new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(remoteRoot)}' is not a directory") { IsRemote = true };
        }

        var top = Path.GetFullPath(localDirectory);
        bool existed = Directory.Exists(top);
        if (!_options.DryRun)
        {
            Directory.CreateDirectory(top);
        }

        await attempt.WalkAndTransferAsync(
            new DirectoryJob(string.Empty, Local: existed, Remote: true),
            top,
            remoteRoot,
            pair => VisitGetAsync(attempt, pair, localDirectory, top, remoteRoot),
            (client, reader) => GetWorkAsync(attempt, client, reader, progress),
            cancellationToken,
            listTop);
        await attempt.Requests.CompleteAsync();

        if (!_options.DryRun)
        {
            // Times and modes last, children before parents (a read-only directory is made so once it is filled),
            // and none on a directory below which something failed: it is left as it was for the next run.
            for (int i = Progress.Attributes.Count - 1; i >= 0; i--)
            {
                var directory = Progress.Attributes[i];
                if (!_failedDirectories.Contains(directory.Name))
                {
                    await SetDirectoryAttributesAsync(attempt, localDirectory, top, remoteRoot, directory.Name, directory);
                }
            }

            if (remoteRoot.Length > 0 && !_failedDirectories.Contains(string.Empty))
            {
                await SetDirectoryAttributesAsync(attempt, localDirectory, top, remoteRoot, string.Empty, remoteTop);
            }
        }

        return Progress.Summary("get", _options.DryRun);
    }

    /// <summary>Compares one directory of both sides: what to fetch, what to create, where to go next.</summary>
    private async ValueTask<IReadOnlyList<DirectoryJob>> VisitGetAsync(Attempt attempt, DirectoryPair pair, string localDirectory, string top, string remoteRoot)
    {
        var job = pair.Job;
        var node = Progress.Enter(job.Relative);
        var children = new List<DirectoryJob>();
        try
        {
            if (pair.RemoteError is { } remoteError)
            {
                if (job.Relative.Length == 0)
                {
                    throw remoteError;
                }

                // Removed on the server since its parent was listed: a vanished source.
                var status = remoteError is FileXferException { Code: ErrorCode.NotFound } ? ItemStatus.Vanished : ItemStatus.Failed;
                await ReportGetAsync(attempt, node, null, status, Shown(localDirectory, job.Relative), RemotePath.Combine(remoteRoot, job.Relative), remoteError);
                return children;
            }

            if (pair.LocalError is { } localError)
            {
                await ReportGetAsync(attempt, node, null, ItemStatus.Failed, Shown(localDirectory, job.Relative), RemotePath.Combine(remoteRoot, job.Relative),
                    new IOException($"cannot read directory '{Shown(localDirectory, job.Relative)}': {localError.Message}", localError));
                return children;
            }

            var listing = pair.Remote!;
            if (!node.Committed)
            {
                foreach (var omitted in listing.Omitted)
                {
                    // Nothing silently missing from a restore: what the server could not send is a failure.
                    await ReportGetAsync(attempt, node, null, ItemStatus.Failed, null, listing.Path, omitted.ToException());
                }
            }

            var local = pair.Local ?? [];
            bool changed = false;
            foreach (var (name, r, l) in TreeWalk.Merge(listing.Entries, e => e.Name, local, e => e.Name))
            {
                if (r is null || r.Kind == EntryKind.Other)
                {
                    continue;
                }

                var path = RemotePath.Combine(job.Relative, name);
                if (!Includes(path, r.Kind))
                {
                    continue;
                }

                var remotePath = RemotePath.Combine(remoteRoot, path);
                var shown = Shown(localDirectory, path);
                if (l is { IsLink: true })
                {
                    if (!node.Committed)
                    {
                        await ReportGetAsync(attempt, node, name, ItemStatus.Failed, shown, remotePath, new IOException("the destination holds a symbolic link on this path; not written through it"));
                    }

                    continue;
                }

                if (r.Kind == EntryKind.Directory)
                {
                    if (l is { Kind: not EntryKind.Directory })
                    {
                        if (!node.Committed)
                        {
                            await ReportGetAsync(attempt, node, name, ItemStatus.Failed, shown, remotePath, new IOException($"cannot create directory '{shown}': something else is in the way"));
                        }

                        continue;
                    }

                    if (Progress.IsFinishedSubtree(path))
                    {
                        continue;
                    }

                    if (l is null && !_options.DryRun)
                    {
                        try
                        {
                            Directory.CreateDirectory(LocalPath(top, path));
                        }
                        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                        {
                            await ReportGetAsync(attempt, node, name, ItemStatus.Failed, shown, remotePath, new IOException($"cannot create directory '{shown}': {ex.Message}", ex));
                            continue;
                        }
                    }

                    var self = new LocalEntry(name, EntryKind.Directory, 0, r.ModifiedUtc, r.Mode);
                    bool differs = l is null || l.ModifiedUtc != r.ModifiedUtc || (l.Mode is { } mine && r.Mode is { } theirs && (mine & 0x1FF) != ((theirs & 0x1FF) | 0x1C0));
                    // A directory created here has nothing to read yet; in a dry run it does not even exist.
                    children.Add(new DirectoryJob(path, Local: l is not null, Remote: true, self, differs));
                    continue;
                }

                if (node.Committed)
                {
                    continue;
                }

                if (l is { Kind: EntryKind.Directory })
                {
                    await ReportGetAsync(attempt, node, name, ItemStatus.Failed, shown, remotePath, new IOException($"'{shown}' is a directory; not replaced"));
                    continue;
                }

                bool sameSize = l is { Kind: EntryKind.File } && l.Size == r.Size;
                if (sameSize && !_options.Checksum && l!.ModifiedUtc == r.ModifiedUtc)
                {
                    await attempt.EmitAsync(node, name, ItemStatus.Skipped, shown, remotePath, r.Size);
                    continue;
                }

                changed = true;
                var item = new TransferItem(shown, remotePath);
                if (sameSize && _options.Checksum)
                {
                    await CompareThenQueueAsync(attempt, node, name, item, r.Size);
                }
                else if (_options.DryRun)
                {
                    await attempt.EmitAsync(node, name, ItemStatus.Transferred, shown, remotePath, r.Size);
                }
                else
                {
                    await attempt.QueueAsync(node, name, item, r.Size);
                }
            }

            if (!node.Committed && job.Self is { } dir && (job.SelfDiffers || changed))
            {
                node.Attributes = new RemoteEntry(job.Relative, EntryKind.Directory, 0, dir.ModifiedUtc, dir.Mode);
            }

            return children;
        }
        finally
        {
            Progress.Finish(node);
        }
    }

    /// <summary>Reports a failure of a get and remembers its directory and those above it, whose attributes are then left alone.</summary>
    private async ValueTask ReportGetAsync(Attempt attempt, DirectoryNode node, string? name, ItemStatus status, string? local, string remote, Exception error)
    {
        MarkFailed(name is null ? node.Relative : RemotePath.Combine(node.Relative, name));
        await attempt.EmitAsync(node, name, status, local, remote, 0, null, error);
    }

    private void MarkFailed(string relative)
    {
        lock (_failedDirectories)
        {
            for (var path = relative; ; path = path.LastIndexOf('/') is var slash and >= 0 ? path[..slash] : string.Empty)
            {
                if (!_failedDirectories.Add(path) || path.Length == 0)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One transfer connection of a get: small files pipelined, large ones resumably, one at a time.</summary>
    private Task GetWorkAsync(Attempt attempt, FileXferClient client, ChannelReader<QueuedTransfer> reader, Action<long>? progress) =>
        TransferWorkAsync(
            attempt,
            reader,
            large => client.DownloadFileAsync(large.Item.RemotePath, large.Item.LocalPath, progress, attempt.Token),
            (small, onResult) => client.GetBatchAsync(small, onResult, progress, attempt.Token),
            (item, bytes, hashHex, error) => ReportReceivedAsync(attempt, item, bytes, hashHex, error));

    private ValueTask ReportReceivedAsync(Attempt attempt, QueuedTransfer item, long bytes, string? hashHex, Exception? error)
    {
        if (error is not null)
        {
            MarkFailed(RemotePath.Combine(item.Node.Relative, item.Name));
        }

        return attempt.ReportAsync(item, bytes, hashHex, error, remoteSource: true);
    }

    /// <summary>
    /// Gives a local directory the remote one's permission bits and time. One it may not change (another user's: only a
    /// directory's owner may set its time; an immutable one; a file system that refuses) is one failed item, as the last
    /// pass of a put reports a directory the server refused; the pass goes on.
    /// </summary>
    private static async ValueTask SetDirectoryAttributesAsync(Attempt attempt, string localDirectory, string top, string remoteRoot, string relative, RemoteEntry entry)
    {
        if (LocalAttributes.TrySetDirectory(LocalPath(top, relative), entry.ModifiedUtc, entry.Mode) is var (what, reason))
        {
            var shown = Shown(localDirectory, relative);
            await attempt.EmitAsync(null, null, ItemStatus.Failed, shown, relative.Length == 0 ? remoteRoot : RemotePath.Combine(remoteRoot, relative), 0, null,
                new IOException($"cannot set the {what} of directory '{shown}': {reason}"));
        }
    }
}
