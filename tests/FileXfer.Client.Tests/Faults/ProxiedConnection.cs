using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// One connection accepted by a <see cref="FaultProxy"/>: the client's socket, the proxy's own connection to the
/// target, and the two <see cref="ProxyFlow"/>s between them. Both sockets close together: after a cut, a failure,
/// both directions ending, or the proxy's disposal.
/// </summary>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "RunAsync closes both sockets on every path; FaultProxy awaits it.")]
public sealed class ProxiedConnection
{
    private readonly Socket _client;
    private readonly Socket _server;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _closing;

    internal ProxiedConnection(int index, FaultPlan plan, Socket client, TimeProvider timeProvider, Action<long> upstreamForwarded, Action<long> downstreamForwarded)
    {
        Index = index;
        Plan = plan;
        _client = client;
        _server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Upstream = new ProxyFlow(plan.Upstream, timeProvider, upstreamForwarded);
        Downstream = new ProxyFlow(plan.Downstream, timeProvider, downstreamForwarded);
    }

    /// <summary>The order in which the proxy accepted this connection, from 0.</summary>
    public int Index { get; }

    /// <summary>The plan this connection was given when it was accepted.</summary>
    public FaultPlan Plan { get; }

    /// <summary>Client to server.</summary>
    public ProxyFlow Upstream { get; }

    /// <summary>Server to client.</summary>
    public ProxyFlow Downstream { get; }

    /// <summary>Completes when both sockets are closed and both directions have stopped.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Ends (or pre-releases) the stalls of both directions.</summary>
    public void ReleaseStalls()
    {
        Upstream.ReleaseStall();
        Downstream.ReleaseStall();
    }

    /// <summary>Connects to <paramref name="target"/> and forwards both directions until the connection ends.</summary>
    internal async Task RunAsync(IPEndPoint target, CancellationToken cancellationToken)
    {
        try
        {
            try
            {
                await _server.ConnectAsync(target, cancellationToken);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // Nothing to forward to (or the proxy is stopping): the client sees a reset, as from a refusing server.
                Close(reset: true);
                return;
            }

            await Task.WhenAll(
                Upstream.PumpAsync(_client, _server, this, cancellationToken),
                Downstream.PumpAsync(_server, _client, this, cancellationToken));
            Close(reset: false);
        }
        finally
        {
            _closed.TrySetResult();
        }
    }

    /// <summary>
    /// Closes both sockets, once: in order (each peer gets the bytes already forwarded, then the end of the stream)
    /// or, with <paramref name="reset"/>, with a TCP reset. Later calls do nothing.
    /// </summary>
    internal void Close(bool reset)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        CloseSocket(_client, reset);
        CloseSocket(_server, reset);
    }

    private static void CloseSocket(Socket socket, bool reset)
    {
        try
        {
            if (reset)
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            else if (socket.Connected)
            {
                // An explicit shutdown: the peer gets a FIN after the queued bytes (and a pending receive of the other
                // direction wakes up) before the socket is released.
                socket.Shutdown(SocketShutdown.Both);
            }
        }
        catch (SocketException)
        {
            // The peer broke the connection first; there is nothing left to close in order.
        }

        socket.Dispose();
    }
}
