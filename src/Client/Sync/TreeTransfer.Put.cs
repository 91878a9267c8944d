using System.Threading.Channels;

namespace FileXfer.Client.Sync;

/// <summary><c>put -r</c>: the local tree into a remote directory.</summary>
public sealed partial class TreeTransfer
{
    /// <summary>Uploads the contents of <paramref name="localDirectory"/> into <paramref name="remoteDirectory"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The local directory does not exist.</exception>
    /// <exception cref="FileXferException">A <c>--delete</c> guard refused (<see cref="ErrorCode.BadRequest"/>), or the remote directory is a file.</exception>
    public async Task<TreeSummary> PutTreeAsync(string localDirectory, string remoteDirectory, Func<TreeEvent, ValueTask> onEvent, Action<long>? progress, CancellationToken cancellationToken)
    {
        var remoteRoot = RemotePath.Normalize(remoteDirectory);
        var top = new DirectoryInfo(localDirectory);
        if (!top.Exists)
        {
            throw new DirectoryNotFoundException($"'{localDirectory}' is not a directory");
        }

        // Reading the top itself must work: an unreadable source is an error, not an empty tree.
        bool empty = !Directory.EnumerateFileSystemEntries(top.FullName).Any();
        if (empty && _options.Delete)
        {
            throw new FileXferException(ErrorCode.BadRequest, "the source directory is empty; refusing to --delete everything on the server");
        }

        Progress.BeginAttempt();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var attempt = new Attempt(this, "put", onEvent, stop);
        // On a long link the extra connections open once the run's first TCP handshake measured it (UseLink).
        using var link = _options.Run?.OnLinkMeasured(attempt.UseLink);
        // The transfer connections open now, beside the listing connection (on a retry just after it, see BeginAttempt),
        // not after the walk found files: their handshakes and authentication overlap its own and the listing of the
        // top (docs/performance/issue-17-wan-bed.md, "Latency-aware trees").
        bool prestart = !_options.DryRun && !empty;
        bool beside = BeginAttempt();
        if (prestart && beside)
        {
            attempt.PrestartTransfers((client, reader) => PutWorkAsync(attempt, client, reader, progress));
        }

        await using var main = await _connect(stop.Token);
        attempt.UseLink(main.RoundTrip);
        if (prestart && !beside)
        {
            attempt.PrestartTransfers((client, reader) => PutWorkAsync(attempt, client, reader, progress));
        }

        // A server that sets a directory's time after each entry it adds to it (ParentMTime) leaves every directory the
        // files went into at its time: the last pass then only sets those no such request covered.
        bool carryTimes = !_options.DryRun && main.Capabilities.HasFlag(Capabilities.DirectoryTimes);

        // The top's description and its listing in one round trip: the listing serves the walk when the top exists. Where
        // the server takes requests behind Authenticate they travel with it; the token's access is known from its Ok,
        // read before their answers, and checked before anything is written.
        attempt.Requests = main.StartRequestQueue(stop.Token);
        var describeTop = attempt.Requests.StatAsync(remoteRoot);
        var listTop = attempt.Requests.ListAsync(remoteRoot);
        RemoteEntry? remoteTop;
        try
        {
            remoteTop = await describeTop;
        }
        catch (FileXferException ex) when (ex.Code == ErrorCode.NotFound)
        {
            remoteTop = null;
        }

        if (!_options.DryRun)
        {
            // Settled by now: the Ok came before the Stat's answer.
            await main.RequireWriteAccessAsync("put", stop.Token);
        }

        if (remoteTop is not { Kind: EntryKind.Directory })
        {
            // Not listed: missing, or a file (whose listing failed); its outcome is already known.
            await ObserveAsync(listTop);
        }

        if (remoteTop is { Kind: not EntryKind.Directory })
        {
            throw new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(remoteRoot)}' is not a directory on the server") { IsRemote = true };
        }

        // A missing top is made on the listing connection without waiting, with its time and mode: a put creates its
        // parents, so the files need not wait for it (empty directories and times follow it on the same connection, in order).
        var self = new LocalEntry(string.Empty, EntryKind.Directory, 0, new DateTimeOffset(top.LastWriteTimeUtc, TimeSpan.Zero), OperatingSystem.IsWindows() ? null : (int)top.UnixFileMode);
        var makeTop = remoteTop is null && remoteRoot.Length > 0 && !_options.DryRun ? attempt.Requests.MakeDirectoryAsync(self.ToRemote(remoteRoot)) : null;
        var topJob = new DirectoryJob(string.Empty, Local: true, Remote: remoteTop is not null, self, SelfDiffers: remoteTop is null || AttributesDiffer(self, remoteTop),
            ModeDiffers: remoteTop is not null && ModeDiffers(self, remoteTop));

        await attempt.WalkAndTransferAsync(
            topJob,
            top.FullName,
            remoteRoot,
            pair => VisitPutAsync(attempt, pair, localDirectory, remoteRoot, carryTimes),
            (client, reader) => PutWorkAsync(attempt, client, reader, progress),
            cancellationToken,
            remoteTop is not null ? listTop : null);

        if (makeTop is not null && (await makeTop).Error is { } notMade)
        {
            throw notMade;
        }

        if (!_options.DryRun)
        {
            if (_options.Delete)
            {
                await DeleteAsync(attempt, remoteRoot);
            }

            // Directory times last, children before parents: deleting entries changed them, and so did adding them where
            // the requests did not carry the directory's time or the server could not set it (TreeProgress holds only
            // those; all of them without DirectoryTimes).
            await SetDirectoryAttributesAsync(attempt);
        }

        await attempt.Requests.CompleteAsync();
        return Progress.Summary("put", _options.DryRun);
    }

    /// <summary>Waits for a request whose answer is not needed; its failure was seen through another request of the same round trip.</summary>
    private static async Task ObserveAsync(Task request)
    {
        try
        {
            await request;
        }
        catch (FileXferException)
        {
            // The top is missing or a file: the Stat beside it said so.
        }
    }

    /// <summary>Compares one directory of both sides: what to send, what to create, what to delete, where to go next.</summary>
    private async ValueTask<IReadOnlyList<DirectoryJob>> VisitPutAsync(Attempt attempt, DirectoryPair pair, string localDirectory, string remoteRoot, bool carryTimes)
    {
        var job = pair.Job;
        var node = Progress.Enter(job.Relative);
        var children = new List<DirectoryJob>();
        if (carryTimes && job.Self is { } wanted)
        {
            node.EntryTime = wanted.ModifiedUtc;
            node.MadeWithAttributes = !job.Remote;
            node.ModeDiffers = job.ModeDiffers;
        }

        try
        {
            if (pair.LocalError is { } localError)
            {
                // Gone since its parent was read: a vanished source. Unreadable: no deletion anywhere, as rsync.
                bool vanished = localError is DirectoryNotFoundException;
                Progress.SendingFailed |= !vanished;
                await attempt.EmitAsync(node, null, vanished ? ItemStatus.Vanished : ItemStatus.Failed, Shown(localDirectory, job.Relative), RemotePath.Combine(remoteRoot, job.Relative), 0, null,
                    vanished ? new FileNotFoundException($"directory '{Shown(localDirectory, job.Relative)}' vanished", localError) : new IOException($"cannot read directory: {localError.Message}", localError));
                return children;
            }

            if (pair.RemoteError is { } remoteError and not FileXferException { Code: ErrorCode.NotFound })
            {
                await attempt.EmitAsync(node, null, ItemStatus.Failed, Shown(localDirectory, job.Relative), RemotePath.Combine(remoteRoot, job.Relative), 0, null, remoteError);
                return children;
            }

            var local = pair.Local ?? [];
            var remote = pair.Remote?.Entries ?? [];
            bool changed = false;
            foreach (var (name, l, r) in TreeWalk.Merge(local, e => e.Name, remote, e => e.Name))
            {
                var path = RemotePath.Combine(job.Relative, name);
                var remotePath = RemotePath.Combine(remoteRoot, path);
                if (l is null)
                {
                    // Only on the server: deleted with --delete (counted now, carried out at the end), with what it
                    // holds. A directory walked only to reach listed paths below it (--files-from) is not itself deleted.
                    if (_options.Delete && Includes(path, r!.Kind))
                    {
                        if (!node.Committed && (r.Kind != EntryKind.Directory || _options.Filter.IncludesDirectoryItself(path)))
                        {
                            (node.Deletions ??= []).Add((remotePath, r.Kind));
                            changed = true;
                            if (_options.DryRun)
                            {
                                await attempt.EmitAsync(node, name, ItemStatus.Deleted, null, remotePath, 0);
                            }
                        }

                        if (r.Kind == EntryKind.Directory && !Progress.IsFinishedSubtree(path))
                        {
                            children.Add(new DirectoryJob(path, Local: false, Remote: true));
                        }
                    }

                    continue;
                }

                if (!Includes(path, l.Kind == EntryKind.Directory ? EntryKind.Directory : EntryKind.File))
                {
                    continue;
                }

                if (l.Problem is { } problem)
                {
                    if (!node.Committed)
                    {
                        await attempt.EmitAsync(node, name, ItemStatus.Failed, Shown(localDirectory, path), remotePath, 0, null, new IOException(problem));
                    }

                    continue;
                }

                if (l.Kind == EntryKind.Directory)
                {
                    if (r is { Kind: not EntryKind.Directory })
                    {
                        if (!node.Committed)
                        {
                            await attempt.EmitAsync(node, name, ItemStatus.Failed, Shown(localDirectory, path), remotePath, 0, null,
                                new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(remotePath)}' is not a directory on the server; not replaced"));
                        }

                        continue;
                    }

                    if (Progress.IsFinishedSubtree(path))
                    {
                        continue;
                    }

                    if (r is null && !_options.DryRun && !node.Committed)
                    {
                        changed = true;
                        var subdirectory = new RemoteEntry(remotePath, EntryKind.Directory, 0, l.ModifiedUtc, l.Mode);
                        if (node.EntryTime is not null)
                        {
                            node.AddTimedEntry();
                        }

                        // With DirectoryTimes it also gives this directory its time back after adding the subdirectory.
                        await attempt.TrackAsync(node, () => node.EntryTime is { } parentTime ? attempt.Requests!.MakeDirectoryAsync(subdirectory, parentTime) : attempt.Requests!.MakeDirectoryAsync(subdirectory), async made =>
                        {
                            if (made.Error is { } error)
                            {
                                await attempt.EmitAsync(node, name, ItemStatus.Failed, Shown(localDirectory, path), remotePath, 0, null, error);
                            }
                            else if (made.ParentTimeNotSet)
                            {
                                // Made, but this directory (its parent) kept the time the making gave it: the last pass sets it.
                                node.MarkParentTimeNotSet();
                            }
                        });
                    }

                    children.Add(new DirectoryJob(path, Local: true, Remote: r is not null, l, SelfDiffers: r is null || AttributesDiffer(l, r), ModeDiffers: r is not null && ModeDiffers(l, r)));
                    continue;
                }

                if (node.Committed)
                {
                    continue;
                }

                if (r is { Kind: EntryKind.Directory })
                {
                    await attempt.EmitAsync(node, name, ItemStatus.Failed, Shown(localDirectory, path), remotePath, 0, null,
                        new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(remotePath)}' is a directory on the server; not replaced"));
                    continue;
                }

                bool sameSize = r is { Kind: EntryKind.File } && r.Size == l.Size;
                if (sameSize && !_options.Checksum && r!.ModifiedUtc == l.ModifiedUtc)
                {
                    await attempt.EmitAsync(node, name, ItemStatus.Skipped, Shown(localDirectory, path), remotePath, l.Size);
                    continue;
                }

                changed = true;
                var item = new TransferItem(Shown(localDirectory, path), remotePath);
                if (sameSize && _options.Checksum)
                {
                    await CompareThenQueueAsync(attempt, node, name, item, l.Size);
                }
                else if (_options.DryRun)
                {
                    await attempt.EmitAsync(node, name, ItemStatus.Transferred, item.LocalPath, remotePath, l.Size);
                }
                else
                {
                    await QueuePutAsync(attempt, node, name, item, l.Size);
                }
            }

            if (!node.Committed && job.Self is { } self && (job.SelfDiffers || changed))
            {
                node.Attributes = self.ToRemote(RemotePath.Combine(remoteRoot, job.Relative));
            }

            return children;
        }
        finally
        {
            Progress.Finish(node);
        }
    }

    /// <summary>
    /// With --checksum, a file of the same size on both sides is hashed on both (the server through the listing
    /// queue, here on the thread pool) and sent only when the hashes differ.
    /// </summary>
    private ValueTask CompareThenQueueAsync(Attempt attempt, DirectoryNode node, string name, TransferItem item, long size)
    {
        Task<BatchItemResult>? remoteHash = null;
        Task<byte[]?>? localHash = null;
        return attempt.TrackAsync(node, () =>
        {
            remoteHash = attempt.Requests!.HashAsync(item.RemotePath);
            localHash = LocalHashOrNullAsync(item.LocalPath, attempt.Token);
            return Task.WhenAll(remoteHash, localHash);
        }, async () =>
        {
            if (localHash!.Result is { } mine && remoteHash!.Result.Hash is { } theirs && mine.AsSpan().SequenceEqual(theirs))
            {
                await attempt.EmitAsync(node, name, ItemStatus.Skipped, item.LocalPath, item.RemotePath, size);
            }
            else if (_options.DryRun)
            {
                await attempt.EmitAsync(node, name, ItemStatus.Transferred, item.LocalPath, item.RemotePath, size);
            }
            else
            {
                await QueuePutAsync(attempt, node, name, item, size);
            }
        });
    }

    /// <summary>
    /// Queues a file to put. Where its directory's requests carry its time (<see cref="DirectoryNode.EntryTime"/>), the
    /// file's Put carries it as ParentMTime, in a batch or sent resumably on its own.
    /// </summary>
    private static ValueTask QueuePutAsync(Attempt attempt, DirectoryNode node, string name, TransferItem item, long size)
    {
        if (node.EntryTime is { } parentTime)
        {
            node.AddTimedEntry();
            item = item with { ParentModified = parentTime };
        }

        return attempt.QueueAsync(node, name, item, size);
    }

    private async Task<byte[]?> LocalHashOrNullAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await Task.Run(() => LocalHasher.HashFileAsync(path, _algorithm, cancellationToken), cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Unreadable here means "transfer it": the transfer reports the real error for this file.
            return null;
        }
    }

    /// <summary>One transfer connection of a put: small files pipelined, large ones resumably, one at a time.</summary>
    private static Task PutWorkAsync(Attempt attempt, FileXferClient client, ChannelReader<QueuedTransfer> reader, Action<long>? progress) =>
        TransferWorkAsync(
            attempt,
            reader,
            large => client.UploadFileAsync(large.Item, progress, attempt.Token),
            (small, onResult) => client.PutBatchAsync(small, onResult, progress, attempt.Token),
            (item, bytes, hashHex, error) => attempt.ReportAsync(item, bytes, hashHex, error, remoteSource: false));

    /// <summary>
    /// Carries out the deletions planned by the walk, children before their directories, once everything was sent:
    /// none at all when a source could not be read (as rsync), and none when more than --max-delete are planned.
    /// </summary>
    private async Task DeleteAsync(Attempt attempt, string remoteRoot)
    {
        var planned = Progress.Deletions;
        if (planned.Count == 0)
        {
            return;
        }

        if (Progress.SendingFailed)
        {
            await attempt.EmitDeleteFailedAsync(remoteRoot,
                new IOException($"{planned.Count} deletions skipped: part of the source could not be read, so what is missing from it may not be gone"));
            return;
        }

        if (planned.Count > _options.MaxDelete)
        {
            throw new FileXferException(ErrorCode.BadRequest, $"{planned.Count} deletions planned, more than --max-delete {_options.MaxDelete}; nothing was deleted");
        }

        var requests = attempt.Requests!;
        var answers = new Queue<(string Path, Task<BatchItemResult> Answer)>();
        for (int i = planned.Count - 1 - Progress.DeletionsDone; i >= 0; i--)
        {
            answers.Enqueue((planned[i].Path, requests.DeleteAsync(planned[i].Path)));
            if (answers.Count >= FileXferClient.PipelineWindow || i == 0)
            {
                while (answers.TryDequeue(out var next))
                {
                    var result = await next.Answer;
                    Progress.DeletionsDone++;

                    // Gone already (a retry of a deletion whose answer was lost): nothing to report.
                    if (result.Error is FileXferException { Code: ErrorCode.NotFound })
                    {
                        continue;
                    }

                    await (result.Error is { } error ? attempt.EmitDeleteFailedAsync(next.Path, error) : attempt.EmitAsync(null, null, ItemStatus.Deleted, null, next.Path, 0));
                }
            }
        }
    }

    /// <summary>
    /// The last pass: a MakeDirectory with its time and mode for each directory that needs them, children before parents,
    /// all pipelined at once. A directory the server refuses (one it does not own cannot be given a time) is reported as
    /// a failed item, so the run does not end as if every directory had its time; a retry goes on after those answered.
    /// </summary>
    private async Task SetDirectoryAttributesAsync(Attempt attempt)
    {
        var attributes = Progress.Attributes;
        var answers = new List<Task<BatchItemResult>>();
        for (int i = attributes.Count - 1 - Progress.AttributesDone; i >= 0; i--)
        {
            answers.Add(attempt.Requests!.MakeDirectoryAsync(attributes[i]));
        }

        foreach (var answer in answers)
        {
            var result = await answer;
            Progress.AttributesDone++;
            if (result.Error is { } error)
            {
                await attempt.EmitAsync(null, null, ItemStatus.Failed, null, result.RemotePath, 0, null, error);
            }
        }
    }

    /// <summary>True when the server's time or permission bits of a directory differ from the local one's.</summary>
    private static bool AttributesDiffer(LocalEntry local, RemoteEntry remote) =>
        local.ModifiedUtc != remote.ModifiedUtc || ModeDiffers(local, remote);

    /// <summary>True when the server's permission bits of a directory differ from the local one's.</summary>
    private static bool ModeDiffers(LocalEntry local, RemoteEntry remote) =>
        local.Mode is { } mode && remote.Mode is { } theirs && (mode & 0x1FF) != (theirs & 0x1FF);
}
