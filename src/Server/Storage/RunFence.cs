namespace FileXfer.Server.Storage;

/// <summary>
/// The fence against abandoned attempts, in one server's memory: which connections of which client runs were
/// declared abandoned (<see cref="RunTicket"/>), and a gate that publishes an upload only while its connection is
/// not. The declaration and the gate take the same lock, so once a Hello's declaration is recorded, no upload of
/// a declared connection gets a name, however late its bytes arrive; one published before it is ordered before
/// the retry that followed the declaration.
/// </summary>
/// <remarks>
/// Runs are kept for <see cref="Keep"/> after their last declaration (a stale connection outliving that is cut by
/// the server's idle timeout long before), and at most <see cref="MaxRuns"/> of them, the oldest dropped first.
/// Only abandonments are recorded, so a run that never gave a connection up costs nothing here. A connection cannot
/// outlive the server process, so memory is enough for one server; servers that share a store need the fence in
/// the store.
/// </remarks>
public sealed class RunFence(TimeProvider timeProvider)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Scope, UInt128 Run), (HashSet<uint> Numbers, DateTimeOffset Touched)> _runs = [];

    /// <summary>How long a run's declarations are kept after its last one.</summary>
    public TimeSpan Keep { get; init; } = TimeSpan.FromHours(24);

    /// <summary>The most runs kept at once.</summary>
    public int MaxRuns { get; init; } = 100_000;

    /// <summary>Runs with declarations kept now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _runs.Count;
            }
        }
    }

    /// <summary>Records the abandoned connections <paramref name="ticket"/> declares, for its run within <paramref name="scope"/> (the token).</summary>
    public void Declare(string scope, RunTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(ticket);
        if (ticket.Abandoned.Count == 0)
        {
            return;
        }

        var now = timeProvider.GetUtcNow();
        var key = (scope, RunOf(ticket));
        lock (_lock)
        {
            if (!_runs.TryGetValue(key, out var run))
            {
                Prune(now);
                run = ([], now);
            }

            run.Numbers.UnionWith(ticket.Abandoned);
            _runs[key] = (run.Numbers, now);
        }
    }

    /// <summary>True when the ticket's connection was declared abandoned within <paramref name="scope"/>.</summary>
    public bool IsAbandoned(string scope, RunTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        lock (_lock)
        {
            return IsAbandonedLocked(scope, ticket);
        }
    }

    /// <summary>
    /// Runs <paramref name="publish"/> unless the ticket's connection was declared abandoned, with no declaration
    /// in between; a null ticket (a client older than the fence) always publishes.
    /// </summary>
    public bool TryPublish<T>(string scope, RunTicket? ticket, Func<T> publish, out T? result)
    {
        ArgumentNullException.ThrowIfNull(publish);
        if (ticket is null)
        {
            result = publish();
            return true;
        }

        lock (_lock)
        {
            if (IsAbandonedLocked(scope, ticket))
            {
                result = default;
                return false;
            }

            result = publish();
            return true;
        }
    }

    private bool IsAbandonedLocked(string scope, RunTicket ticket) =>
        _runs.TryGetValue((scope, RunOf(ticket)), out var run) && run.Numbers.Contains(ticket.Number);

    private static UInt128 RunOf(RunTicket ticket) => new(
        BitConverter.ToUInt64(ticket.RunId, 0),
        BitConverter.ToUInt64(ticket.RunId, sizeof(ulong)));

    private void Prune(DateTimeOffset now)
    {
        // Abandonments are rare (a retry each), so a scan per new run costs little.
        List<(string, UInt128)>? expired = null;
        foreach (var (key, run) in _runs)
        {
            if (now - run.Touched > Keep)
            {
                (expired ??= []).Add(key);
            }
        }

        foreach (var key in expired ?? [])
        {
            _runs.Remove(key);
        }

        if (_runs.Count >= MaxRuns)
        {
            _runs.Remove(_runs.MinBy(r => r.Value.Touched).Key);
        }
    }
}
