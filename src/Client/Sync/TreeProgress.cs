using System.Diagnostics;

namespace FileXfer.Client.Sync;

/// <summary>
/// What a tree run has done, kept across the attempts of one command so a retry resumes where the failed attempt
/// stopped: directories are finished in walk order up to a watermark, and a retry neither lists again a directory
/// whose whole subtree lies before it nor transfers again the files of one that was finished. It counts each
/// item once, by its last outcome, and hands events on one at a time, whichever connection they come from. Its
/// memory follows the directories in flight, the deletions planned and the directories whose attributes are to be
/// set, not the size of the tree.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "A SemaphoreSlim without AvailableWaitHandle holds nothing to release.")]
public sealed class TreeProgress
{
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _emitting = new(1, 1);
    private readonly Queue<DirectoryNode> _inWalkOrder = new();
    private readonly Dictionary<string, Dictionary<string, ItemStatus>> _carried = new(StringComparer.Ordinal);
    private readonly long _started = Stopwatch.GetTimestamp();
    private string? _watermark;
    private int _transferred;
    private int _skipped;
    private int _failed;
    private int _deleted;
    private int _vanished;
    private long _bytes;
    private bool _integrity;

    /// <summary>Remote-only entries to delete, in walk order (parents before children), from finished directories.</summary>
    internal List<(string Path, EntryKind Kind)> Deletions { get; } = [];

    /// <summary>How many of <see cref="Deletions"/> were carried out (a retry goes on from there).</summary>
    internal int DeletionsDone { get; set; }

    /// <summary>Directories whose time and mode are to be set, in walk order, from finished directories.</summary>
    internal List<RemoteEntry> Attributes { get; } = [];

    /// <summary>How many of <see cref="Attributes"/> the last pass had answered, from the last (a retry goes on from there).</summary>
    internal int AttributesDone { get; set; }

    /// <summary>True once a source could not be read (a directory, a file): deletions are then skipped, as rsync does.</summary>
    internal bool SendingFailed { get; set; }

    /// <summary>Begins an attempt: directories the last one left unfinished are visited again.</summary>
    internal void BeginAttempt()
    {
        lock (_lock)
        {
            while (_inWalkOrder.TryDequeue(out var node))
            {
                if (node.Outcomes.Count > 0)
                {
                    _carried[node.Relative] = node.Carried is { } earlier ? Merge(earlier, node.Outcomes) : node.Outcomes;
                }
            }
        }
    }

    /// <summary>True when an earlier attempt finished <paramref name="relative"/> and everything below it: not walked again.</summary>
    internal bool IsFinishedSubtree(string relative) =>
        _watermark is { } mark && TreeWalk.CompareWalkOrder(relative, mark) <= 0 && !TreeWalk.IsAtOrBelow(mark, relative);

    /// <summary>Starts the visit of a directory (in walk order).</summary>
    internal DirectoryNode Enter(string relative)
    {
        lock (_lock)
        {
            _carried.Remove(relative, out var carried);
            bool committed = _watermark is { } mark && TreeWalk.CompareWalkOrder(relative, mark) <= 0;
            var node = new DirectoryNode(relative, carried, committed);
            _inWalkOrder.Enqueue(node);
            return node;
        }
    }

    /// <summary>An item of <paramref name="node"/>, or its visit, finished: finished directories are handed over in walk order.</summary>
    internal void Finish(DirectoryNode node)
    {
        if (!node.Finish())
        {
            return;
        }

        lock (_lock)
        {
            while (_inWalkOrder.TryPeek(out var head) && head.IsDone)
            {
                _inWalkOrder.Dequeue();

                // A retry visits again the directories above the mark: the mark only moves forward.
                if (_watermark is null || TreeWalk.CompareWalkOrder(head.Relative, _watermark) > 0)
                {
                    _watermark = head.Relative;
                }

                if (!head.Committed)
                {
                    Deletions.AddRange(head.Deletions ?? []);
                    if (head.Attributes is { } attributes && head.NeedsLastPass)
                    {
                        Attributes.Add(attributes);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Counts <paramref name="item"/> and hands it on, unless it repeats what an earlier attempt reported (a file it
    /// sent now found unchanged). <paramref name="node"/> is the directory the item belongs to, when it has one.
    /// </summary>
    internal async ValueTask EmitAsync(DirectoryNode? node, string? name, TreeEvent item, Func<TreeEvent, ValueTask> onEvent)
    {
        await _emitting.WaitAsync();
        try
        {
            if (node is not null && name is not null)
            {
                if (node.Carried?.Remove(name, out var earlier) == true)
                {
                    if (earlier is ItemStatus.Transferred or ItemStatus.Deleted && item.Status == ItemStatus.Skipped)
                    {
                        node.Outcomes[name] = earlier;
                        return;
                    }

                    Uncount(earlier);
                }

                if (item.Status != ItemStatus.Skipped)
                {
                    node.Outcomes[name] = item.Status;
                }
            }

            Count(item);
            await onEvent(item);
        }
        finally
        {
            _emitting.Release();
        }
    }

    /// <summary>The counts so far.</summary>
    public TreeSummary Summary(string operation, bool dryRun) =>
        new(operation, _transferred, _skipped, _failed, _deleted, _bytes, Stopwatch.GetElapsedTime(_started), dryRun, _integrity) { Vanished = _vanished };

    private void Count(TreeEvent item)
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
            case ItemStatus.Vanished:
                _vanished++;
                break;
            default:
                _failed++;
                _integrity |= item.IsIntegrityFailure;
                break;
        }
    }

    private void Uncount(ItemStatus status)
    {
        switch (status)
        {
            case ItemStatus.Failed:
                _failed--;
                break;
            case ItemStatus.Vanished:
                _vanished--;
                break;
            default:
                // Transferred or deleted before, and now again: the byte count keeps the first transfer.
                if (status == ItemStatus.Transferred)
                {
                    _transferred--;
                }
                else if (status == ItemStatus.Deleted)
                {
                    _deleted--;
                }

                break;
        }
    }

    private static Dictionary<string, ItemStatus> Merge(Dictionary<string, ItemStatus> earlier, Dictionary<string, ItemStatus> later)
    {
        foreach (var (name, status) in later)
        {
            earlier[name] = status;
        }

        return earlier;
    }

    /// <summary>The error of a run that found the remote directory missing.</summary>
    internal static FileXferException NotFound(string remoteRoot) =>
        new(ErrorCode.NotFound, $"'{RemotePath.Escape(remoteRoot)}' not found") { IsRemote = true };
}
