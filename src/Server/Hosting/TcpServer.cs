using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FileXfer.Protocol.Net;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Hosting;

/// <summary>
/// A threaded TCP server in the shape of Python's socketserver: it binds, listens and serves forever, running
/// each connection concurrently through its own <see cref="RequestHandler"/>; a failing connection is logged in
/// one place (<see cref="HandleError"/>) and never stops the server. <see cref="StopAsync"/> closes the listener,
/// lets connections in flight finish up to a deadline, then aborts the rest.
/// </summary>
/// <remarks>
/// Connection limits (<see cref="TcpServerOptions.MaxConnections"/> in all, <see cref="TcpServerOptions.MaxConnectionsPerAddress"/>
/// from one address): a connection over them is accepted, told why by its handler's <see cref="RequestHandler.RefuseAsync"/>
/// within a short deadline, and closed. When the server is full, the oldest connection that has been in its handshake
/// for at least <see cref="TcpServerOptions.EvictionAge"/> is evicted to let the new one in, so connections that stall
/// in the handshake cannot keep clients out; younger ones are left to finish theirs (a client's own connections, opened
/// together, must not push out its first), and the new one is refused as busy.
/// </remarks>
public sealed class TcpServer : IAsyncDisposable
{
    // How long a stop waits, after aborting the connections left at its deadline, for them to close their files and sockets.
    private static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(2);

    private readonly IPEndPoint _endPoint;
    private readonly Func<ConnectionContext, RequestHandler> _handlerFactory;
    private readonly ILogger _logger;
    private readonly TcpServerOptions _options;
    private readonly ConcurrentDictionary<long, ActiveConnection> _connections = new();
    private readonly ConcurrentDictionary<long, Task> _refusals = new();

    // Admission state; the accept loop reads and raises it, ending connections lower it.
    private readonly Lock _admission = new();
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private int _admitted;
    private int _evicting;

    // Only the accept loop touches these.
    private readonly LogRateLimiter _failureLog;
    private readonly LogRateLimiter _refusalLog;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _aborted = new();
    private Socket? _listener;
    private long _nextId;

    public TcpServer(IPEndPoint endPoint, Func<ConnectionContext, RequestHandler> handlerFactory, ILogger logger, TcpServerOptions? options = null)
    {
        _endPoint = endPoint ?? throw new ArgumentNullException(nameof(endPoint));
        _handlerFactory = handlerFactory ?? throw new ArgumentNullException(nameof(handlerFactory));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _options = options ?? new TcpServerOptions();
        if (_options.HandshakeTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), _options.HandshakeTimeout, "the handshake timeout must be positive");
        }

        if (_options.EvictionAge <= TimeSpan.Zero || _options.EvictionAge >= _options.HandshakeTimeout)
        {
            // At or past the handshake deadline no connection would ever be old enough: eviction would be off unnoticed.
            throw new ArgumentOutOfRangeException(nameof(options), _options.EvictionAge, $"the eviction age must be positive and shorter than the handshake timeout ({_options.HandshakeTimeout})");
        }

        _failureLog = new LogRateLimiter(_options.FailureLogBurst, _options.FailureLogInterval, _options.TimeProvider);
        _refusalLog = new LogRateLimiter(burst: 1, _options.RefusalLogInterval, _options.TimeProvider);
    }

    /// <summary>The bound address, with the real port when port 0 was asked for. Set by <see cref="Start"/>.</summary>
    public IPEndPoint LocalEndPoint =>
        _listener?.LocalEndPoint as IPEndPoint ?? throw new InvalidOperationException("the server is not started");

    /// <summary>The number of connections being served now (for tests of draining and limits).</summary>
    internal int ActiveConnections => _connections.Count;

    /// <summary>The number of refused connections being told why now (for tests of their bound).</summary>
    internal int PendingRefusals => _refusals.Count;

    /// <summary>Binds and listens (socketserver's <c>server_bind</c> and <c>server_activate</c>).</summary>
    public void Start()
    {
        if (_listener is not null)
        {
            throw new InvalidOperationException("the server is already started");
        }

        var listener = new Socket(_endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (_endPoint.AddressFamily == AddressFamily.InterNetworkV6 && _endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }

            if (OperatingSystem.IsLinux())
            {
                // SO_REUSEADDR alone, so a restart can bind over connections in TIME_WAIT. .NET's ReuseAddress
                // also sets SO_REUSEPORT on Linux, which would let a second server share a port already in use.
                const int SolSocket = 1;
                const int SoReuseAddr = 2;
                listener.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
            }
            listener.Bind(_endPoint);
            listener.Listen(_options.Backlog);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        ServerLog.Listening(_logger, LocalEndPoint);
        ServerLog.HandshakeLimits(_logger, _options.HandshakeTimeout.TotalSeconds, _options.EvictionAge.TotalSeconds);
    }

    /// <summary>Accepts connections until <see cref="StopAsync"/> or <paramref name="cancellationToken"/>.</summary>
    public async Task ServeForeverAsync(CancellationToken cancellationToken)
    {
        var listener = _listener ?? throw new InvalidOperationException("call Start first");
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        while (!linked.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(linked.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                // The listener was closed by StopAsync.
                break;
            }
            catch (SocketException) when (linked.IsCancellationRequested)
            {
                // StopAsync closed the listener under a pending accept, which then ends with
                // OperationAborted (or Interrupted) rather than a cancellation: the server is stopping.
                break;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                // The peer gave up before we accepted; nothing to serve.
                continue;
            }

            long id = Interlocked.Increment(ref _nextId);
            var context = new ConnectionContext(id, socket, _options.HandshakeTimeout, _options.TimeProvider, _stopping.Token, _aborted.Token);
            var address = context.Address;
            if (Admit(context, address) is { } refusal)
            {
                Refuse(context, refusal.Reason, refusal.Why);
                continue;
            }

            KeepAlive(socket);

            // Registered before it starts: a connection that ends at once must find its entry to remove it.
            var run = new Task<Task>(() => ProcessConnectionAsync(context, address), TaskCreationOptions.DenyChildAttach);
            _connections[id] = new ActiveConnection(context, run.Unwrap());
            run.Start(TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Stops accepting, lets connections in flight finish within the shutdown timeout, then aborts the rest.
    /// </summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        _listener?.Dispose();
        var pending = _connections.Values.Select(c => c.Completion).ToArray();
        var all = Task.WhenAll([.. pending, .. _refusals.Values]);
        var drained = all.WaitAsync(_options.ShutdownTimeout, _options.TimeProvider);

        // Logged once the deadline runs, so whoever reads the log (a test on a fake clock too) knows it is under way.
        ServerLog.Draining(_logger, pending.Length);
        try
        {
            await drained;
        }
        catch (TimeoutException)
        {
            ServerLog.ShutdownDeadline(_logger, _connections.Count);
            await _aborted.CancelAsync();

            // Handlers observe the abort token; give them a moment to close their files and sockets.
            await Task.WhenAny(all, Task.Delay(AbortGrace, _options.TimeProvider));
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested && _listener is not null)
        {
            await StopAsync();
        }

        _listener?.Dispose();
        _stopping.Dispose();
        _aborted.Dispose();
    }

    /// <summary>
    /// Decides whether a new connection is served: null when it is (evicting the oldest newcomer parked in its
    /// handshake when the server is full), else the reason it is refused, and for the log why no one was evicted.
    /// </summary>
    private (string Reason, string Why)? Admit(ConnectionContext context, IPAddress address)
    {
        ConnectionContext? evicted = null;
        TimeSpan evictedAge = default;
        lock (_admission)
        {
            int fromAddress = _perAddress.GetValueOrDefault(address);
            bool addressFull = fromAddress >= _options.MaxConnectionsPerAddress;
            if (addressFull || _admitted >= _options.MaxConnections)
            {
                // The oldest connection parked in its handshake (from this address, when that is what is full) makes
                // room: stalled handshakes must not lock out a real client, behind one NAT address either. Evicted
                // connections end quickly, but a flood must not let them pile up.
                int younger = 0;
                evicted = _evicting < _options.MaxPendingRefusals ? OldestParked(addressFull ? address : null, out younger) : null;
                if (evicted is null || !evicted.TryMarkEvicted())
                {
                    // What an operator tuning the limits and the eviction age needs to know of a refusal.
                    string why = evicted is not null ? "the one old enough completed its handshake meanwhile"
                        : _evicting >= _options.MaxPendingRefusals ? $"{_evicting} evicted connections are still closing"
                        : younger > 0 ? $"{younger} in their handshakes, all younger than the eviction age of {_options.EvictionAge.TotalSeconds} s"
                        : "all have completed their handshakes";
                    return (addressFull ? "too many connections from your address" : "too many connections", why);
                }

                evictedAge = evicted.Age;

                // The evicted connection gives its place to the new one; it still counts for its address until it ends.
                _admitted--;
                _evicting++;
            }

            _perAddress[address] = fromAddress + 1;
            _admitted++;
        }

        if (evicted is not null)
        {
            ServerLog.ConnectionEvicted(_logger, evicted.Id, evicted.RemoteEndPoint, evictedAge.TotalMilliseconds, context.Id);
            evicted.Abort();
        }

        return null;
    }

    /// <summary>
    /// The oldest connection that has been in its handshake for <see cref="TcpServerOptions.EvictionAge"/> or more, from
    /// <paramref name="address"/> when given; null when every connection still in its handshake is younger
    /// (<paramref name="younger"/> of them).
    /// </summary>
    private ConnectionContext? OldestParked(IPAddress? address, out int younger)
    {
        ConnectionContext? oldest = null;
        younger = 0;
        foreach (var connection in _connections.Values)
        {
            var candidate = connection.Context;
            if (candidate.IsEstablished || candidate.IsEvicted || (address is not null && !candidate.Address.Equals(address)))
            {
                continue;
            }

            if (candidate.Age < _options.EvictionAge)
            {
                younger++;
            }
            else if (oldest is null || candidate.Id < oldest.Id)
            {
                oldest = candidate;
            }
        }

        return oldest;
    }

    private void Release(ConnectionContext context, IPAddress address)
    {
        lock (_admission)
        {
            _connections.TryRemove(context.Id, out _);
            if (_perAddress[address] == 1)
            {
                _perAddress.Remove(address);
            }
            else
            {
                _perAddress[address]--;
            }

            if (context.IsEvicted)
            {
                _evicting--;
            }
            else
            {
                _admitted--;
            }
        }
    }

    /// <summary>
    /// Tells a connection over a limit why it is refused, within <see cref="TcpServerOptions.RefusalTimeout"/>, and
    /// closes it. Past <see cref="TcpServerOptions.MaxPendingRefusals"/> refusals at once it is closed at once.
    /// </summary>
    private void Refuse(ConnectionContext context, string reason, string why)
    {
        ReportRefusal(context.RemoteEndPoint, reason, why);
        if (_refusals.Count >= _options.MaxPendingRefusals)
        {
            try
            {
                // A reset frees the socket at once, with nothing left to send or wait for.
                context.Socket.LingerState = new LingerOption(enable: true, seconds: 0);
            }
            catch (SocketException)
            {
                // The peer is gone already; a plain close will do.
            }

            context.Socket.Dispose();
            context.Dispose();
            return;
        }

        var run = new Task<Task>(() => RefuseAsync(context, reason), TaskCreationOptions.DenyChildAttach);
        _refusals[context.Id] = run.Unwrap();
        run.Start(TaskScheduler.Default);
    }

    private async Task RefuseAsync(ConnectionContext context, string reason)
    {
        using var deadline = new LinkedTimeoutSource(_options.RefusalTimeout, _options.TimeProvider, context.Aborted);
        string? undelivered = null;
        try
        {
            var handler = _handlerFactory(context);
            try
            {
                await handler.RefuseAsync(reason, deadline.Token);
            }
            finally
            {
                // Closed before the handler cleans up, so nothing it still holds can wait on the peer.
                context.Socket.Dispose();
                await handler.FinishAsync();
            }
        }
        catch (Exception ex)
        {
            // A refused peer that does not take its answer in time, or has gone: not worth more than a debug line.
            undelivered = ex.Message;
        }
        finally
        {
            context.Socket.Dispose();
            context.Dispose();
            _refusals.TryRemove(context.Id, out _);
        }

        if (undelivered is not null)
        {
            ServerLog.RefusalNotDelivered(_logger, context.Id, context.RemoteEndPoint, undelivered);
        }
    }

    /// <summary>Logs a refusal, at most once per <see cref="TcpServerOptions.RefusalLogInterval"/>: a flood of connections is not a flood of lines.</summary>
    private void ReportRefusal(IPEndPoint remoteEndPoint, string reason, string why)
    {
        _options.Metrics?.ConnectionRefused(reason);
        if (_refusalLog.TryAcquire(out int unreported))
        {
            ServerLog.ConnectionRefused(_logger, remoteEndPoint, reason, why, unreported);
        }
    }

    private async Task ProcessConnectionAsync(ConnectionContext context, IPAddress address)
    {
        var started = _options.TimeProvider.GetTimestamp();
        ServerLog.ConnectionOpened(_logger, context.Id, context.RemoteEndPoint);
        _options.Metrics?.ConnectionOpened();
        try
        {
            var handler = _handlerFactory(context);
            try
            {
                await handler.SetupAsync(context.Aborted);
                await handler.HandleAsync(context.Aborted);
            }
            finally
            {
                await handler.FinishAsync();
            }
        }
        catch (Exception ex)
        {
            HandleError(context, ex);
        }
        finally
        {
            context.Socket.Dispose();
            Release(context, address);
            _options.Metrics?.ConnectionClosed();
            context.Dispose();
            // A connection that never completed its handshake is a Debug line: a flood of them is not a flood of lines.
            var level = context.IsEstablished ? LogLevel.Information : LogLevel.Debug;
            if (_logger.IsEnabled(level))
            {
                double durationMs = _options.TimeProvider.GetElapsedTime(started).TotalMilliseconds;
                ServerLog.ConnectionClosed(_logger, level, context.Id, context.RemoteEndPoint, durationMs);
            }
        }
    }

    /// <summary>
    /// Turns TCP keepalive on for an accepted connection (see <see cref="TcpServerOptions.KeepAliveInterval"/>): a peer
    /// that vanished without closing is noticed by the kernel, and the handler's pending read fails, freeing what the
    /// connection held (a partial upload, a connection slot) long before its idle timeout.
    /// </summary>
    private void KeepAlive(Socket socket)
    {
        if (_options.KeepAliveInterval is not { } interval)
        {
            return;
        }

        int seconds = (int)Math.Clamp(Math.Ceiling(interval.TotalSeconds), 1, int.MaxValue);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, seconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, seconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, _options.KeepAliveProbes);
        }
        catch (SocketException)
        {
            // The peer reset the connection already (its handler finds out on its first read), or the platform lacks a
            // setting: keepalive is a safeguard, and the idle timeout still bounds a silent connection.
        }
    }

    /// <summary>
    /// The one place a failed connection ends up (socketserver's <c>handle_error</c>): logged, and the server
    /// goes on serving everyone else.
    /// </summary>
    private void HandleError(ConnectionContext context, Exception exception)
    {
        if (exception is OperationCanceledException && context.IsEvicted)
        {
            // Logged when it was evicted.
            return;
        }

        if (exception is OperationCanceledException && context.Aborted.IsCancellationRequested)
        {
            ServerLog.ConnectionAborted(_logger, context.Id, context.RemoteEndPoint);
            return;
        }

        // A flood of bad connections must not become a flood of log lines (nor fill the disk): a burst is logged,
        // then one line per interval says how many more failed.
        if (_failureLog.TryAcquire(out int suppressed))
        {
            if (suppressed > 0)
            {
                ServerLog.ConnectionFailuresSuppressed(_logger, suppressed, _options.FailureLogInterval.TotalSeconds);
            }

            ServerLog.ConnectionFailed(_logger, exception, context.Id, context.RemoteEndPoint, exception.Message);
        }
    }

    private readonly record struct ActiveConnection(ConnectionContext Context, Task Completion);
}
