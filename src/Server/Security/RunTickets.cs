namespace FileXfer.Server.Security;

/// <summary>
/// The tickets of early authentication (docs/PROTOCOL.md, "Early authentication"): after a connection of a client's
/// run authenticated by challenge and response, its ServerNonce is that run's ticket, for that token only. A later
/// connection of the run proves the token in its Hello over the ticket, its own nonce and its connection number; each
/// connection number is accepted once per ticket, so a recorded Hello cannot be replayed. Tickets live in this
/// process's memory only (a restarted server, or another server behind the same name, knows none, and the client
/// falls back to the challenge), expire <see cref="Lifetime"/> after their last use, and are bounded in number.
/// </summary>
/// <remarks>Thread-safe: every connection's handshake uses the one instance of its server.</remarks>
public sealed class RunTickets(TimeProvider timeProvider)
{
    /// <summary>How long a ticket stays usable after it was issued or last redeemed.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    /// <summary>The most tickets held at once; past it no new one is issued (clients authenticate by the challenge).</summary>
    public const int MaxTickets = 10_000;

    /// <summary>The most connection numbers one ticket remembers; past it the ticket is refused (the challenge still works).</summary>
    public const int MaxConnectionsPerTicket = 4_096;

    private readonly Dictionary<(string Name, UInt128 Run), Ticket> _tickets = [];
    private readonly Lock _lock = new();

    /// <summary>The outcome of looking a ticket up.</summary>
    public enum Lookup
    {
        /// <summary>The ticket is live and the connection number was not used with it: check the proof, then <see cref="TryConsume"/>.</summary>
        Found,

        /// <summary>No ticket for this token and run (never issued here, or forgotten after a restart).</summary>
        Unknown,

        /// <summary>The ticket was not used for <see cref="Lifetime"/>.</summary>
        Expired,

        /// <summary>This connection number already authenticated with this ticket: a replay.</summary>
        Replayed,

        /// <summary>The ticket has served <see cref="MaxConnectionsPerTicket"/> connections.</summary>
        Exhausted,
    }

    /// <summary>The number of tickets held (for tests of the bound).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _tickets.Count;
            }
        }
    }

    /// <summary>
    /// Makes <paramref name="serverNonce"/> the ticket of <paramref name="name"/>'s run <paramref name="runId"/>, after
    /// connection <paramref name="number"/> authenticated with it by the challenge. False when the run already holds a
    /// live ticket (its connections keep using that one; this number is marked used all the same) or the table is full.
    /// </summary>
    public bool Issue(string name, ReadOnlySpan<byte> runId, uint number, byte[] serverNonce)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(serverNonce);
        var now = timeProvider.GetUtcNow();
        var key = (name, Key(runId));
        lock (_lock)
        {
            if (_tickets.TryGetValue(key, out var live) && live.LastUse + Lifetime > now)
            {
                if (live.Used.Count < MaxConnectionsPerTicket)
                {
                    live.Used.Add(number);
                }

                return false;
            }

            _tickets.Remove(key);
            if (_tickets.Count >= MaxTickets)
            {
                foreach (var stale in _tickets.Where(t => t.Value.LastUse + Lifetime <= now).Select(t => t.Key).ToList())
                {
                    _tickets.Remove(stale);
                }

                if (_tickets.Count >= MaxTickets)
                {
                    return false;
                }
            }

            _tickets[key] = new Ticket(serverNonce, [number], now);
            return true;
        }
    }

    /// <summary>Looks up the ticket a later connection of a run names; <paramref name="nonce"/> is set when it is <see cref="Lookup.Found"/>.</summary>
    public Lookup Find(string name, ReadOnlySpan<byte> runId, uint number, out byte[]? nonce)
    {
        ArgumentNullException.ThrowIfNull(name);
        nonce = null;
        var now = timeProvider.GetUtcNow();
        var key = (name, Key(runId));
        lock (_lock)
        {
            if (!_tickets.TryGetValue(key, out var ticket))
            {
                return Lookup.Unknown;
            }

            if (ticket.LastUse + Lifetime <= now)
            {
                _tickets.Remove(key);
                return Lookup.Expired;
            }

            if (ticket.Used.Contains(number))
            {
                return Lookup.Replayed;
            }

            if (ticket.Used.Count >= MaxConnectionsPerTicket)
            {
                return Lookup.Exhausted;
            }

            nonce = ticket.Nonce;
            return Lookup.Found;
        }
    }

    /// <summary>
    /// Records that connection <paramref name="number"/> authenticated with the ticket (after its proof was checked):
    /// false when another connection with the same number got there first, or the ticket is gone.
    /// </summary>
    public bool TryConsume(string name, ReadOnlySpan<byte> runId, uint number, byte[] nonce)
    {
        var now = timeProvider.GetUtcNow();
        lock (_lock)
        {
            if (!_tickets.TryGetValue((name, Key(runId)), out var ticket) || !ReferenceEquals(ticket.Nonce, nonce)
                || ticket.LastUse + Lifetime <= now || ticket.Used.Count >= MaxConnectionsPerTicket || !ticket.Used.Add(number))
            {
                return false;
            }

            ticket.LastUse = now;
            return true;
        }
    }

    private static UInt128 Key(ReadOnlySpan<byte> runId) =>
        runId.Length == 16 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(runId) : throw new ArgumentException("a run id is 16 bytes", nameof(runId));

    private sealed class Ticket(byte[] nonce, HashSet<uint> used, DateTimeOffset lastUse)
    {
        public byte[] Nonce { get; } = nonce;

        public HashSet<uint> Used { get; } = used;

        public DateTimeOffset LastUse { get; set; } = lastUse;
    }
}
