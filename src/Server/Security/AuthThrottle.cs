using System.Net;
using FileXfer.Server.Hosting;

namespace FileXfer.Server.Security;

/// <summary>
/// Remembers recent failed authentications per source address: each failure is answered only after a delay
/// that grows with the address's recent failures, and an address with too many failures within the window is
/// refused at once for the lockout period. The table is bounded: expired entries are dropped, and past
/// <see cref="AuthThrottleOptions.MaxTrackedAddresses"/> the entries idle longest are forgotten.
/// </summary>
public sealed class AuthThrottle(AuthThrottleOptions options)
{
    private readonly Dictionary<IPAddress, AddressState> _addresses = [];
    private readonly Lock _lock = new();

    /// <summary>The settings.</summary>
    public AuthThrottleOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <summary>The number of addresses remembered now (for tests of the bound).</summary>
    internal int TrackedAddresses
    {
        get
        {
            lock (_lock)
            {
                return _addresses.Count;
            }
        }
    }

    /// <summary>True while <paramref name="address"/> is locked out.</summary>
    public bool IsLockedOut(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var now = Options.TimeProvider.GetUtcNow();
        lock (_lock)
        {
            return _addresses.TryGetValue(ConnectionContext.Normalize(address), out var state) && state.LockedUntil > now;
        }
    }

    /// <summary>Counts a failure from <paramref name="address"/> and returns how long to wait before answering it.</summary>
    public TimeSpan RecordFailure(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var now = Options.TimeProvider.GetUtcNow();
        var key = ConnectionContext.Normalize(address);
        lock (_lock)
        {
            if (!_addresses.TryGetValue(key, out var state))
            {
                Evict(now);
                state = new AddressState();
                _addresses[key] = state;
            }

            while (state.Failures.Count > 0 && state.Failures.Peek() <= now - Options.Window)
            {
                state.Failures.Dequeue();
            }

            state.Failures.Enqueue(now);
            state.LastSeen = now;
            if (state.Failures.Count >= Options.MaxFailures)
            {
                state.LockedUntil = now + Options.Lockout;
                state.Failures.Clear();
            }

            var delay = Options.FailureDelay * Math.Max(1, state.Failures.Count);
            return state.LockedUntil > now || delay > Options.MaxFailureDelay ? Options.MaxFailureDelay : delay;
        }
    }

    private void Evict(DateTimeOffset now)
    {
        if (_addresses.Count < Options.MaxTrackedAddresses)
        {
            return;
        }

        foreach (var (address, state) in _addresses.ToArray())
        {
            if (state.LockedUntil <= now && state.LastSeen <= now - Options.Window)
            {
                _addresses.Remove(address);
            }
        }

        // Still full of recent entries (many addresses failing at once): forget the ones idle longest.
        int excess = _addresses.Count - Options.MaxTrackedAddresses + 1;
        if (excess > 0)
        {
            foreach (var address in _addresses.OrderBy(pair => pair.Value.LastSeen).Take(excess).Select(pair => pair.Key).ToArray())
            {
                _addresses.Remove(address);
            }
        }
    }

    private sealed class AddressState
    {
        public Queue<DateTimeOffset> Failures { get; } = new();

        public DateTimeOffset LastSeen { get; set; }

        public DateTimeOffset LockedUntil { get; set; } = DateTimeOffset.MinValue;
    }
}
