namespace FileXfer.Client.Sync;

/// <summary>One directory a walk visits, relative to the tops of both trees.</summary>
/// <param name="Relative">Its path below the tops, <c>/</c>-separated; empty for the tops.</param>
/// <param name="Local">Whether the local side has it (to be read).</param>
/// <param name="Remote">Whether the remote side has it (to be listed).</param>
/// <param name="Self">The local directory's own entry, as its parent listed it (null for the top, or when only remote).</param>
/// <param name="SelfDiffers">Whether the other side's time or mode of it differs from <paramref name="Self"/>.</param>
/// <param name="ModeDiffers">Whether the other side has it with other permission bits than <paramref name="Self"/>.</param>
public sealed record DirectoryJob(string Relative, bool Local, bool Remote, LocalEntry? Self = null, bool SelfDiffers = false, bool ModeDiffers = false);

/// <summary>A directory of both sides, as read: a side not asked for, or that failed, is null.</summary>
public sealed record DirectoryPair(DirectoryJob Job, List<LocalEntry>? Local, DirectoryListing? Remote, Exception? LocalError, Exception? RemoteError);

/// <summary>
/// The march: both trees walked together, one directory at a time, in one order (depth first, names in ordinal
/// order), so a comparison needs only the two listings of the directory at hand. Several directories ahead of the
/// one being visited are read at once (<c>window</c>): listings pipelined to the server, local reads on the thread
/// pool. Memory follows the widest directory and the window, never the size of the tree.
/// </summary>
public static class TreeWalk
{
    /// <summary>
    /// Walks from <paramref name="top"/>: each directory is fetched (both sides) through <paramref name="fetch"/>, then
    /// visited in order through <paramref name="visit"/>, which returns the subdirectories to walk, in name order.
    /// </summary>
    public static async Task RunAsync(
        DirectoryJob top,
        Func<DirectoryJob, Task<DirectoryPair>> fetch,
        Func<DirectoryPair, ValueTask<IReadOnlyList<DirectoryJob>>> visit,
        int window,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fetch);
        ArgumentNullException.ThrowIfNull(visit);
        var pending = new LinkedList<Pending>();
        pending.AddFirst(new Pending(top));
        int inFlight = 0;
        try
        {
            while (pending.First is { } head)
            {
                cancellationToken.ThrowIfCancellationRequested();
                StartAhead();
                pending.RemoveFirst();
                var pair = await head.Value.Fetch!;
                inFlight--;
                var children = await visit(pair);
                for (int i = children.Count - 1; i >= 0; i--)
                {
                    pending.AddFirst(new Pending(children[i]));
                }
            }
        }
        finally
        {
            // Reads already started are awaited so none outlives the walk (their failures no longer matter).
            foreach (var left in pending)
            {
                if (left.Fetch is { } task)
                {
                    await task.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
            }
        }

        // The next directories in walk order are read ahead, up to the window; those already started keep their place.
        void StartAhead()
        {
            for (var node = pending.First; node is not null && (inFlight < window || node == pending.First); node = node.Next)
            {
                if (node.Value.Fetch is null)
                {
                    node.Value.Fetch = fetch(node.Value.Job);
                    inFlight++;
                }
            }
        }
    }

    /// <summary>
    /// Merges two lists sorted by name (ordinal) into pairs: each name once, with its entry on each side where it
    /// has one.
    /// </summary>
    public static IEnumerable<(string Name, TLeft? Left, TRight? Right)> Merge<TLeft, TRight>(IReadOnlyList<TLeft> left, Func<TLeft, string> leftName, IReadOnlyList<TRight> right, Func<TRight, string> rightName)
        where TLeft : class
        where TRight : class
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        int i = 0, j = 0;
        while (i < left.Count || j < right.Count)
        {
            int order = i == left.Count ? 1 : j == right.Count ? -1 : string.CompareOrdinal(leftName(left[i]), rightName(right[j]));
            if (order < 0)
            {
                yield return (leftName(left[i]), left[i++], null);
            }
            else if (order > 0)
            {
                yield return (rightName(right[j]), null, right[j++]);
            }
            else
            {
                yield return (leftName(left[i]), left[i++], right[j++]);
            }
        }
    }

    /// <summary>
    /// Compares two relative paths in walk order (depth first, names ordinal): a directory before everything below
    /// it, and everything below it before its next sibling.
    /// </summary>
    public static int CompareWalkOrder(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Length == 0 || b.Length == 0)
        {
            // The top comes before everything below it.
            return a.Length == 0 ? (b.Length == 0 ? 0 : -1) : 1;
        }

        int i = 0;
        while (true)
        {
            int endA = a.IndexOf('/', i);
            int endB = b.IndexOf('/', i);
            var partA = a.AsSpan(i, (endA < 0 ? a.Length : endA) - i);
            var partB = b.AsSpan(i, (endB < 0 ? b.Length : endB) - i);
            int order = partA.SequenceCompareTo(partB);
            if (order != 0)
            {
                return order;
            }

            if (endA < 0 || endB < 0)
            {
                return endA < 0 && endB < 0 ? 0 : endA < 0 ? -1 : 1;
            }

            i = endA + 1;
        }
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="directory"/> or below it.</summary>
    public static bool IsAtOrBelow(string path, string directory)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(directory);
        return directory.Length == 0
            || (path.StartsWith(directory, StringComparison.Ordinal) && (path.Length == directory.Length || path[directory.Length] == '/'));
    }

    private sealed class Pending(DirectoryJob job)
    {
        public DirectoryJob Job { get; } = job;

        public Task<DirectoryPair>? Fetch { get; set; }
    }
}
