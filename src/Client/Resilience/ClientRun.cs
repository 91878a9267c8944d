using FileXfer.Platform;

namespace FileXfer.Client.Resilience;

/// <summary>
/// One run of the client (one command) as the server's fence sees it: a random id, a number for each connection,
/// and the connections given up on while a request was in flight. The next connection's Hello declares those, so
/// the server commits nothing more that they carry: a put the client abandoned and retried cannot land after the
/// command reported success, over a later acknowledged put of the same path.
/// </summary>
/// <remarks>Thread-safe: the workers of a tree transfer connect and give up connections concurrently.</remarks>
public sealed class ClientRun
{
    private readonly Lock _lock = new();
    private readonly List<uint> _undeclared = [];
    private uint _lastNumber;
    private (string TokenName, byte[] Nonce)? _authTicket;
    private List<TaskCompletionSource<TimeSpan?>> _connectWaiters = [];

    /// <summary>The run's id: 16 random bytes.</summary>
    public byte[] Id { get; } = SecureRandom.GetBytes(ProtocolLimits.RunIdBytes);

    /// <summary>
    /// The ticket of a new connection: its number and the abandoned connections not yet declared to a server
    /// (at most <see cref="ProtocolLimits.MaxAbandonedConnections"/>, the oldest first; the rest go with the next).
    /// </summary>
    public RunTicket NextTicket()
    {
        lock (_lock)
        {
            return new RunTicket(Id, ++_lastNumber, [.. _undeclared.Take(ProtocolLimits.MaxAbandonedConnections)]);
        }
    }

    /// <summary>A server accepted the ticket's handshake: the connections it declared are fenced there.</summary>
    public void Declared(RunTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        lock (_lock)
        {
            foreach (var number in ticket.Abandoned)
            {
                _undeclared.Remove(number);
            }
        }
    }

    /// <summary>The connection numbered <paramref name="number"/> was given up on with a request in flight.</summary>
    public void Abandon(uint number)
    {
        lock (_lock)
        {
            if (!_undeclared.Contains(number))
            {
                _undeclared.Add(number);
            }
        }
    }

    /// <summary>
    /// The run's ticket of early authentication: the nonce of the connection whose Ok made it the ticket, for the token
    /// named; null until a server issued one (docs/PROTOCOL.md, "Early authentication").
    /// </summary>
    public (string TokenName, byte[] Nonce)? AuthTicket
    {
        get
        {
            lock (_lock)
            {
                return _authTicket;
            }
        }

        set
        {
            lock (_lock)
            {
                _authTicket = value;
            }
        }
    }

    /// <summary>
    /// Completes when the run's next connection is connected at the TCP level (before TLS and the FileXfer handshake),
    /// with the round trip the kernel measured on it (its SYN and SYN-ACK), or null where the kernel cannot say. A
    /// transfer that opens more connections when the link is long (<see cref="ParallelTransfer"/>) opens them then,
    /// a round trip before the first connection's Welcome and two before it is authenticated.
    /// </summary>
    public Task<TimeSpan?> WhenNextConnected()
    {
        var waiter = new TaskCompletionSource<TimeSpan?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _connectWaiters.Add(waiter);
        }

        return waiter.Task;
    }

    /// <summary>A connection of the run is connected at the TCP level; <paramref name="roundTrip"/> is the kernel's measure of it.</summary>
    public void Connected(TimeSpan? roundTrip)
    {
        List<TaskCompletionSource<TimeSpan?>> waiters;
        lock (_lock)
        {
            if (_connectWaiters.Count == 0)
            {
                return;
            }

            (waiters, _connectWaiters) = (_connectWaiters, []);
        }

        // No sample yet (a SYN retransmitted without timestamps) reads as zero: unknown, not a short link.
        var measured = roundTrip is { } value && value > TimeSpan.Zero ? roundTrip : null;
        foreach (var waiter in waiters)
        {
            waiter.TrySetResult(measured);
        }
    }

    /// <summary>The abandoned connections no server has yet heard declared.</summary>
    public IReadOnlyList<uint> Undeclared()
    {
        lock (_lock)
        {
            return [.. _undeclared];
        }
    }
}
