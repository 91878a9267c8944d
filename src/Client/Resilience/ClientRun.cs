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
    private TimeSpan? _linkRoundTrip;
    private Action<TimeSpan>? _linkMeasured;

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
    /// The round trip of the link to the server as the kernel measured it on the run's first TCP handshake (its SYN
    /// and SYN-ACK), one round trip after the run began connecting; null until then, or when the kernel could not say.
    /// Work that spreads over several connections decides from it how many, two round trips before the first
    /// connection has authenticated.
    /// </summary>
    public TimeSpan? LinkRoundTrip
    {
        get
        {
            lock (_lock)
            {
                return _linkRoundTrip;
            }
        }
    }

    /// <summary>
    /// A connection of the run completed its TCP handshake and the kernel measured <paramref name="roundTrip"/>: the
    /// first such measure becomes <see cref="LinkRoundTrip"/> and is told to whoever listens (<see cref="OnLinkMeasured"/>).
    /// A measure of zero (the kernel had no sample) is ignored.
    /// </summary>
    public void LinkMeasured(TimeSpan roundTrip)
    {
        Action<TimeSpan>? listeners;
        lock (_lock)
        {
            if (_linkRoundTrip is not null || roundTrip <= TimeSpan.Zero)
            {
                return;
            }

            _linkRoundTrip = roundTrip;
            listeners = _linkMeasured;
        }

        listeners?.Invoke(roundTrip);
    }

    /// <summary>
    /// Calls <paramref name="listener"/> with <see cref="LinkRoundTrip"/> once it is known: at once when it already is,
    /// else on the thread of the connection that measures it. Dispose the result to stop listening.
    /// </summary>
    public IDisposable OnLinkMeasured(Action<TimeSpan> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        TimeSpan? known;
        lock (_lock)
        {
            known = _linkRoundTrip;
            if (known is null)
            {
                _linkMeasured += listener;
            }
        }

        if (known is { } roundTrip)
        {
            listener(roundTrip);
        }

        return new Listening(this, listener);
    }

    /// <summary>
    /// Completes with <see cref="LinkRoundTrip"/> once it is known (at once when it already is). A transfer that opens
    /// more connections on a long link (<see cref="ParallelTransfer"/>) races it with its first connection's handshake.
    /// </summary>
    public Task<TimeSpan> WhenLinkMeasured()
    {
        var known = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listening = OnLinkMeasured(roundTrip => known.TrySetResult(roundTrip));
        // Told once: the listener goes when it was told; one never told stays until the run ends, like the run itself.
        _ = known.Task.ContinueWith(_ => listening.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return known.Task;
    }

    private sealed class Listening(ClientRun run, Action<TimeSpan> listener) : IDisposable
    {
        public void Dispose()
        {
            lock (run._lock)
            {
                run._linkMeasured -= listener;
            }
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
