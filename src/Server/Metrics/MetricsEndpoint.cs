using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Metrics;

/// <summary>
/// The opt-in HTTP endpoint of <c>--metrics HOST:PORT</c>: <c>GET /metrics</c> answers the Prometheus text of
/// <see cref="PrometheusExporter"/>, <c>GET /healthz</c> answers <c>200 ok</c> while the server serves and
/// <c>503 stopping</c> once it drains, for a load balancer or a monitor. One request per connection, read within a
/// few seconds and at most 8 KiB of it; anything else is 404 or 405. It is its own small listener rather than a web
/// framework: two fixed answers need no more.
/// </summary>
public sealed class MetricsEndpoint : IAsyncDisposable
{
    private const int MaxRequestBytes = 8192;

    private readonly TcpListener _listener;
    private readonly PrometheusExporter _exporter;
    private readonly Func<bool> _healthy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _accepting = Task.CompletedTask;

    public MetricsEndpoint(IPEndPoint endPoint, PrometheusExporter exporter, Func<bool> healthy, ILogger logger, TimeProvider? time = null)
    {
        _listener = new TcpListener(endPoint ?? throw new ArgumentNullException(nameof(endPoint)));
        _exporter = exporter ?? throw new ArgumentNullException(nameof(exporter));
        _healthy = healthy ?? throw new ArgumentNullException(nameof(healthy));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How long a client has to send its request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The bound address (a port of 0 is a free one).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Binds and starts answering.</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public void Start()
    {
        _listener.Start();
        _accepting = AcceptAsync(_stopping.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        var answering = new List<Task>();
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException)
            {
                // The peer gave up before it was accepted.
                continue;
            }

            answering.RemoveAll(t => t.IsCompleted);
            answering.Add(AnswerAsync(socket, cancellationToken));
        }

        await Task.WhenAll(answering);
    }

    private async Task AnswerAsync(Socket socket, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(RequestTimeout, _time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            var (status, contentType, body) = Route(await ReadRequestLineAsync(stream, deadline.Token));
            var bytes = Encoding.UTF8.GetBytes(body);
            var head = $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), deadline.Token);
            await stream.WriteAsync(bytes, deadline.Token);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            // A client that went away, or sent nothing in time: nothing to answer.
            ServerLog.MetricsRequestFailed(_logger, ex.GetType().Name, ex.Message);
        }
    }

    private (string Status, string ContentType, string Body) Route(string? requestLine)
    {
        var parts = requestLine?.Split(' ');
        if (parts is not { Length: 3 } || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return ("400 Bad Request", "text/plain; charset=utf-8", "bad request\n");
        }

        var path = parts[1].Split('?')[0];
        if (parts[0] != "GET")
        {
            return ("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET\n");
        }

        return path switch
        {
            "/metrics" => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", _exporter.Render()),
            "/healthz" => _healthy() ? ("200 OK", "text/plain; charset=utf-8", "ok\n") : ("503 Service Unavailable", "text/plain; charset=utf-8", "stopping\n"),
            _ => ("404 Not Found", "text/plain; charset=utf-8", "not found: /metrics or /healthz\n"),
        };
    }

    /// <summary>The request line, after reading the whole head (up to the blank line); null when it is too long or cut.</summary>
    private static async Task<string?> ReadRequestLineAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                return null;
            }

            length += read;
            var head = Encoding.ASCII.GetString(buffer, 0, length);
            if (head.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                return head[..head.IndexOf("\r\n", StringComparison.Ordinal)];
            }
        }

        return null;
    }
}
