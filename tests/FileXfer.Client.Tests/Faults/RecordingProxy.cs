using System.Net;
using System.Net.Sockets;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// An in-process TCP relay that records every byte it forwards: listens on 127.0.0.1:0, connects each accepted
/// connection to a target, and copies both directions unchanged while appending them to one capture per direction.
/// What an eavesdropper on the wire would see.
/// </summary>
public sealed class RecordingProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly MemoryStream _clientToServer = new();
    private readonly MemoryStream _serverToClient = new();
    private readonly List<Task> _relays = [];
    private readonly Task _accepting;
    private int _connections;

    public RecordingProxy(IPEndPoint target)
    {
        _target = target ?? throw new ArgumentNullException(nameof(target));
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _accepting = AcceptAsync(_stop.Token);
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

    /// <summary>The number of connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Every byte clients sent, all connections in arrival order.</summary>
    public byte[] ClientToServer
    {
        get
        {
            lock (_lock)
            {
                return _clientToServer.ToArray();
            }
        }
    }

    /// <summary>Every byte the target sent back.</summary>
    public byte[] ServerToClient
    {
        get
        {
            lock (_lock)
            {
                return _serverToClient.ToArray();
            }
        }
    }

    /// <summary>Both directions, one after the other: what to search for something that must not be on the wire.</summary>
    public byte[] Everything => [.. ClientToServer, .. ServerToClient];

    /// <summary>True when <paramref name="needle"/> occurs anywhere in either direction.</summary>
    public bool Saw(ReadOnlySpan<byte> needle) => ClientToServer.AsSpan().IndexOf(needle) >= 0 || ServerToClient.AsSpan().IndexOf(needle) >= 0;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] relays;
        lock (_lock)
        {
            relays = [.. _relays];
        }

        await Task.WhenAll(relays);
        _stop.Dispose();
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // Stopped.
                return;
            }

            Interlocked.Increment(ref _connections);
            lock (_lock)
            {
                _relays.Add(RelayAsync(client, cancellationToken));
            }
        }
    }

    private async Task RelayAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(_target, cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                // The target is gone: the client sees its connection closed.
                return;
            }

            var up = PumpAsync(client.Client, server.Client, _clientToServer, cancellationToken);
            var down = PumpAsync(server.Client, client.Client, _serverToClient, cancellationToken);
            await Task.WhenAll(up, down);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, MemoryStream capture, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                lock (_lock)
                {
                    capture.Write(buffer, 0, read);
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken);
            }

            // Pass the end of stream on, so each side sees the other close.
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // One side reset or the proxy stopped: close both.
            from.Close();
            to.Close();
        }
    }
}
