using System.Net;
using System.Net.Sockets;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// An in-process TCP proxy for fault injection: listens on 127.0.0.1:0, forwards every accepted connection to a
/// target (usually a <see cref="TestServer"/>), and applies a <see cref="FaultPlan"/> to each connection: cuts,
/// stalls, slicing and bit flips, per direction, positioned by byte offset. Bytes are counted per direction, per
/// connection and in total.
/// </summary>
/// <remarks>
/// Each accepted connection takes its plan at accept time: the next one queued with
/// <see cref="PlanNext(FaultPlan, int)"/>, else <see cref="Plan"/>. So "the first attempt is cut, the retry goes
/// through clean" is <c>proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(500_000)))</c>. Plans may be changed from any
/// thread at any time; a change affects only connections accepted after it.
/// </remarks>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly TimeProvider _timeProvider;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly Queue<FaultPlan> _queued = new();
    private readonly List<ProxiedConnection> _connections = [];
    private readonly List<Task> _running = [];
    private readonly Task _accepting;
    private FaultPlan _plan = FaultPlan.Clean;
    private long _upstreamBytes;
    private long _downstreamBytes;
    private bool _disposed;
    private TaskCompletionSource _accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="target">Where every connection is forwarded.</param>
    /// <param name="timeProvider">The clock of timed stalls (<see cref="DirectionFaults.StallFor"/>); the system clock by default.</param>
    public FaultProxy(IPEndPoint target, TimeProvider? timeProvider = null)
    {
        _target = target ?? throw new ArgumentNullException(nameof(target));
        _timeProvider = timeProvider ?? TimeProvider.System;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen();
        }
        catch (SocketException)
        {
            _listener.Dispose();
            _stop.Dispose();
            throw;
        }

        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _accepting = Task.Run(() => AcceptAsync(_stop.Token));
    }

    /// <summary>Forwards to <paramref name="server"/>.</summary>
    public FaultProxy(TestServer server, TimeProvider? timeProvider = null)
        : this(new IPEndPoint(IPAddress.Loopback, (server ?? throw new ArgumentNullException(nameof(server))).Port), timeProvider)
    {
    }

    /// <summary>The proxy's bound endpoint.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The proxy's address as the client takes it: <c>127.0.0.1:PORT</c>.</summary>
    public string Address => $"127.0.0.1:{EndPoint.Port}";

    /// <summary>How many connections the proxy has accepted.</summary>
    public int Connections
    {
        get
        {
            lock (_lock)
            {
                return _connections.Count;
            }
        }
    }

    /// <summary>Every connection accepted so far, in order.</summary>
    public IReadOnlyList<ProxiedConnection> AcceptedConnections
    {
        get
        {
            lock (_lock)
            {
                return [.. _connections];
            }
        }
    }

    /// <summary>The connection accepted <paramref name="index"/>th (from 0), once the proxy has accepted it.</summary>
    public async Task<ProxiedConnection> WaitForConnectionAsync(int index, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task accepted;
            lock (_lock)
            {
                if (_connections.Count > index)
                {
                    return _connections[index];
                }

                accepted = _accepted.Task;
            }

            await accepted.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Bytes forwarded from clients to the target, over all connections.</summary>
    public long UpstreamBytes => Interlocked.Read(ref _upstreamBytes);

    /// <summary>Bytes forwarded from the target to clients, over all connections.</summary>
    public long DownstreamBytes => Interlocked.Read(ref _downstreamBytes);

    /// <summary>The plan of every connection for which no plan is queued; <see cref="FaultPlan.Clean"/> at first.</summary>
    public FaultPlan Plan
    {
        get
        {
            lock (_lock)
            {
                return _plan;
            }
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (_lock)
            {
                _plan = value;
            }
        }
    }

    /// <summary>
    /// Gives <paramref name="plan"/> to the next <paramref name="count"/> connections, after the plans queued before
    /// it; later connections get <see cref="Plan"/> again.
    /// </summary>
    public void PlanNext(FaultPlan plan, int count = 1)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_lock)
        {
            for (int i = 0; i < count; i++)
            {
                _queued.Enqueue(plan);
            }
        }
    }

    /// <summary>Ends every stall of the connections accepted so far (and lets them pass their stall points freely).</summary>
    public void ReleaseStalls()
    {
        foreach (var connection in AcceptedConnections)
        {
            connection.ReleaseStalls();
        }
    }

    /// <summary>Stops accepting, closes every connection (stalled ones too) and waits until all have stopped.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        // Cancelling wakes every pending accept, connect, read, write and stall; each connection then closes in order.
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        Task[] running;
        lock (_lock)
        {
            running = [.. _running];
        }

        await Task.WhenAll(running);
        _stop.Dispose();
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(cancellationToken);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                // A client that gave up before it was accepted: nothing to forward.
                continue;
            }

            client.NoDelay = true;
            lock (_lock)
            {
                var plan = _queued.TryDequeue(out var next) ? next : _plan;
                var connection = new ProxiedConnection(
                    _connections.Count,
                    plan,
                    client,
                    _timeProvider,
                    bytes => Interlocked.Add(ref _upstreamBytes, bytes),
                    bytes => Interlocked.Add(ref _downstreamBytes, bytes));
                _connections.Add(connection);
                _running.Add(Task.Run(() => connection.RunAsync(_target, cancellationToken), CancellationToken.None));
                _accepted.TrySetResult();
                _accepted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }
}
