namespace FileXfer.Client.Sync;

/// <summary>
/// <c>hash -r</c>: the server's hash of every file below a remote directory, walked one directory at a time with
/// the listings and the hash requests pipelined on one connection; results in walk order, paths relative to the top.
/// Entries the server cannot send are results with an error, never left out.
/// </summary>
public static class TreeHasher
{
    /// <summary>Hashes every file below <paramref name="remoteDirectory"/>; <paramref name="onResult"/> gets each with its relative path.</summary>
    /// <exception cref="FileXferException">The directory does not exist or is not a directory.</exception>
    public static async Task HashTreeAsync(FileXferClient client, string remoteDirectory, PathFilter filter, Func<string, BatchItemResult, ValueTask> onResult, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(filter);
        var top = RemotePath.Normalize(remoteDirectory);
        await using var requests = client.StartRequestQueue(cancellationToken);
        await InWalkOrder<(string Path, BatchItemResult Result)>.WalkAsync(
            new DirectoryJob(string.Empty, Local: false, Remote: true),
            string.Empty,
            top,
            requests,
            FileXferClient.PipelineWindow * 2,
            async (pair, add) =>
            {
                var job = pair.Job;
                if (pair.RemoteError is { } error)
                {
                    if (job.Relative.Length == 0)
                    {
                        throw error;
                    }

                    await add(Task.FromResult((job.Relative, new BatchItemResult(RemotePath.Combine(top, job.Relative), null, 0, client.HashAlgorithm, null, error))));
                    return [];
                }

                var listing = pair.Remote!;
                foreach (var omitted in listing.Omitted)
                {
                    await add(Task.FromResult((job.Relative, new BatchItemResult(listing.Path, null, 0, client.HashAlgorithm, null, omitted.ToException()))));
                }

                var children = new List<DirectoryJob>();
                foreach (var entry in listing.Entries)
                {
                    var path = RemotePath.Combine(job.Relative, entry.Name);
                    if (entry.Kind == EntryKind.Directory && filter.IncludesDirectory(path))
                    {
                        children.Add(new DirectoryJob(path, Local: false, Remote: true));
                    }
                    else if (entry.Kind == EntryKind.File && filter.IncludesFile(path))
                    {
                        await add(PairAsync(path, requests.HashAsync(RemotePath.Combine(top, path))));
                    }
                }

                return children;
            },
            item => onResult(item.Path, item.Result),
            cancellationToken);
        await requests.CompleteAsync();

        static async Task<(string, BatchItemResult)> PairAsync(string path, Task<BatchItemResult> result) => (path, await result);
    }
}
