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

    /// <summary>
    /// In a put to a server with DirectoryTimes: the time the requests that add entries to it carry as ParentMTime (its
    /// local time), so that it ends with that time whichever of them lands last; null when they carry none.
    /// </summary>
    public DateTimeOffset? EntryTime { get; set; }

    /// <summary>True when the remote directory is made in this run by a MakeDirectory that carries its time and mode.</summary>
    public bool MadeWithAttributes { get; set; }

    /// <summary>True when the remote directory exists with other permission bits (only the last pass sets them).</summary>
    public bool ModeDiffers { get; set; }

    /// <summary>How many requests carrying <see cref="EntryTime"/> as ParentMTime were sent into it.</summary>
    public int TimedEntries => Volatile.Read(ref _timedEntries);

    private int _timedEntries;

    /// <summary>One more request carrying <see cref="EntryTime"/> was sent into it.</summary>
    public void AddTimedEntry() => Interlocked.Increment(ref _timedEntries);

    /// <summary>
    /// True once the server answered a request carrying <see cref="EntryTime"/> with ParentTimeNotSet: the entry was made
    /// but the directory did not get its time (one the server does not own), so the requests do not cover it.
    /// </summary>
    public bool ParentTimeNotSet => Volatile.Read(ref _parentTimeNotSet);

    private bool _parentTimeNotSet;

    /// <summary>The server said it could not give this directory the time a request carried (see <see cref="ParentTimeNotSet"/>).</summary>
    public void MarkParentTimeNotSet() => Volatile.Write(ref _parentTimeNotSet, true);

    /// <summary>
    /// Whether its <see cref="Attributes"/> still need the last pass once it is done: always, unless the requests that
    /// changed it carried its time (<see cref="EntryTime"/>), none failed, the server set that time after each of them
    /// (none answered <see cref="ParentTimeNotSet"/>), nothing in it is to be deleted (deletions come later), and its time
    /// and mode are already right otherwise (made with them, or only its time differed and at least one timed request
    /// landed in it).
    /// </summary>
    public bool NeedsLastPass =>
        EntryTime is null
        || ParentTimeNotSet
        || Deletions is { Count: > 0 }
        || Outcomes.Values.Any(status => status != ItemStatus.Transferred)
        || !(MadeWithAttributes || (!ModeDiffers && TimedEntries > 0));

    /// <summary>True once the directory was visited and every item it started finished.</summary>
    public bool IsDone => Volatile.Read(ref _pending) == 0;

    /// <summary>One more item started in it.</summary>
    public void Start() => Interlocked.Increment(ref _pending);

    /// <summary>An item of it finished (or its visit did); true when that made it done.</summary>
    public bool Finish() => Interlocked.Decrement(ref _pending) == 0;
}
