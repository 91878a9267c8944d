using System.Net;
using System.Net.Sockets;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// An in-process TCP relay on 127.0.0.1:0 that forwards every connection to a target unchanged and records every
/// byte in both directions, in order, so a test can check what actually crossed the wire (a secret must not).
/// </summary>
public sealed class RecordingProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly MemoryStream _upstream = new();
    private readonly MemoryStream _downstream = new();
    private readonly List<Task> _relays = [];
    private readonly Task _accepting;

    public RecordingProxy(IPEndPoint target)
    {
        _target = target ?? throw new ArgumentNullException(nameof(target));
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
    public RecordingProxy(TestServer server)
        : this(new IPEndPoint(IPAddress.Loopback, (server ?? throw new ArgumentNullException(nameof(server))).Port))
    {
    }

    /// <summary>Where clients connect.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The address as the client takes it: <c>127.0.0.1:PORT</c>.</summary>
    public string Address => $"127.0.0.1:{EndPoint.Port}";

    /// <summary>Every byte sent by clients so far, connections one after another.</summary>
    public byte[] ClientToServer()
    {
        lock (_lock)
        {
            return _upstream.ToArray();
        }
    }

    /// <summary>Every byte sent by the server so far.</summary>
    public byte[] ServerToClient()
    {
        lock (_lock)
        {
            return _downstream.ToArray();
        }
    }

    /// <summary>Both directions together.</summary>
    public byte[] AllBytes() => [.. ClientToServer(), .. ServerToClient()];

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        Task[] relays;
        lock (_lock)
        {
            relays = [.. _relays];
        }

        await Task.WhenAll(relays);
        _stop.Dispose();
        _upstream.Dispose();
        _downstream.Dispose();
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
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || (ex is SocketException && cancellationToken.IsCancellationRequested))
            {
                return;
            }

            lock (_lock)
            {
                _relays.Add(RelayAsync(client, cancellationToken));
            }
        }
    }

    private async Task RelayAsync(Socket client, CancellationToken cancellationToken)
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using (client)
        {
            try
            {
                await server.ConnectAsync(_target, cancellationToken);
                await Task.WhenAll(
                    PumpAsync(client, server, _upstream, cancellationToken),
                    PumpAsync(server, client, _downstream, cancellationToken));
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A side hung up or the test is over: this relay is done.
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to, MemoryStream record, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken)) > 0)
            {
                lock (_lock)
                {
                    record.Write(buffer, 0, read);
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken);
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // One side closed or reset: close the other so the peer sees the end too.
            to.Close();
        }
    }
}
