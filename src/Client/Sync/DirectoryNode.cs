namespace FileXfer.Client.Sync;

/// <summary>
/// One directory of a run while it is in flight: the items it started that have not finished, what it found to
/// delete and whose attributes to set (handed to the run once the directory is done, in walk order), and the
/// outcomes of its items, kept until it is done so that a retry does not report them twice.
/// </summary>
internal sealed class DirectoryNode(string relative, Dictionary<string, ItemStatus>? carried, bool committed)
{
    private int _pending = 1;

    /// <summary>Its path below the tops.</summary>
    public string Relative { get; } = relative;

    /// <summary>True when an earlier attempt already handed over its deletions and attributes.</summary>
    public bool Committed { get; } = committed;

    /// <summary>Outcomes an earlier attempt reported for its items (by name), when that attempt failed before the directory was done.</summary>
    public Dictionary<string, ItemStatus>? Carried { get; } = carried;

    /// <summary>Outcomes reported in this attempt, other than skips (by name).</summary>
    public Dictionary<string, ItemStatus> Outcomes { get; } = new(StringComparer.Ordinal);

    /// <summary>What to delete: remote-only entries found in it (in name order).</summary>
    public List<(string Path, EntryKind Kind)>? Deletions { get; set; }

    /// <summary>The time and mode to give it once everything in it is done, when they need setting.</summary>
    public RemoteEntry? Attributes { get; set; }

    /// <summary>True once the directory was visited and every item it started finished.</summary>
    public bool IsDone => Volatile.Read(ref _pending) == 0;

    /// <summary>One more item started in it.</summary>
    public void Start() => Interlocked.Increment(ref _pending);

    /// <summary>An item of it finished (or its visit did); true when that made it done.</summary>
    public bool Finish() => Interlocked.Decrement(ref _pending) == 0;
}
