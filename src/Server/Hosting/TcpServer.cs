using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Hosting;

/// <summary>
/// A threaded TCP server in the shape of Python's socketserver: it binds, listens and serves forever, running
/// each connection concurrently through its own <see cref="RequestHandler"/>; a failing connection is logged in
/// one place (<see cref="HandleError"/>) and never stops the server. <see cref="StopAsync"/> closes the listener,
/// lets connections in flight finish up to a deadline, then aborts the rest.
/// </summary>
public sealed class TcpServer : IAsyncDisposable
{
    private readonly IPEndPoint _endPoint;
    private readonly Func<ConnectionContext, RequestHandler> _handlerFactory;
    private readonly ILogger _logger;
    private readonly TcpServerOptions _options;
    private readonly ConcurrentDictionary<long, Task> _connections = new();
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
    }

    /// <summary>The bound address, with the real port when port 0 was asked for. Set by <see cref="Start"/>.</summary>
    public IPEndPoint LocalEndPoint =>
        _listener?.LocalEndPoint as IPEndPoint ?? throw new InvalidOperationException("the server is not started");

    /// <summary>The number of connections being served now.</summary>
    public int ActiveConnections => _connections.Count;

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
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                // The peer gave up before we accepted; nothing to serve.
                continue;
            }

            long id = Interlocked.Increment(ref _nextId);
            var context = new ConnectionContext(id, socket, _stopping.Token, _aborted.Token);
            // Registered before it starts: a connection that ends at once must find its entry to remove it.
            var run = new Task<Task>(() => ProcessConnectionAsync(context), TaskCreationOptions.DenyChildAttach);
            _connections[id] = run.Unwrap();
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
        var pending = _connections.Values.ToArray();
        ServerLog.Draining(_logger, pending.Length);
        var all = Task.WhenAll(pending);
        try
        {
            await all.WaitAsync(_options.ShutdownTimeout);
        }
        catch (TimeoutException)
        {
            ServerLog.ShutdownDeadline(_logger, _connections.Count);
            await _aborted.CancelAsync();

            // Handlers observe the abort token; give them a moment to close their files and sockets.
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(2)));
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

    private async Task ProcessConnectionAsync(ConnectionContext context)
    {
        var started = TimeProvider.System.GetTimestamp();
        ServerLog.ConnectionOpened(_logger, context.Id, context.RemoteEndPoint);
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
            _connections.TryRemove(context.Id, out _);
            ServerLog.ConnectionClosed(_logger, context.Id, context.RemoteEndPoint, TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>
    /// The one place a failed connection ends up (socketserver's <c>handle_error</c>): logged, and the server
    /// goes on serving everyone else.
    /// </summary>
    private void HandleError(ConnectionContext context, Exception exception)
    {
        if (exception is OperationCanceledException && context.Aborted.IsCancellationRequested)
        {
            ServerLog.ConnectionAborted(_logger, context.Id, context.RemoteEndPoint);
            return;
        }

        ServerLog.ConnectionFailed(_logger, exception, context.Id, context.RemoteEndPoint, exception.Message);
    }
}
