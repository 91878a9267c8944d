using System.Net;
using System.Net.Sockets;

namespace FileXfer.Client.Tests.Faults;

/// <summary>A bare listener on 127.0.0.1:0 standing in for a server: the test accepts its connections and sends and reads raw bytes.</summary>
public sealed class LoopbackTarget : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public LoopbackTarget()
    {
        _listener.Start();
    }

    /// <summary>The bound endpoint.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>The next connection, as a stream that owns its socket.</summary>
    public async Task<NetworkStream> AcceptAsync(CancellationToken cancellationToken)
    {
        var socket = await _listener.AcceptSocketAsync(cancellationToken);
        socket.NoDelay = true;
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();
}
