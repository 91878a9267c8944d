using System.Net;
using System.Net.Sockets;

namespace FileXfer.Server.Hosting;

/// <summary>What a handler is given about its connection (socketserver's <c>request</c> and <c>client_address</c>).</summary>
public sealed class ConnectionContext
{
    internal ConnectionContext(long id, Socket socket, CancellationToken stopping, CancellationToken aborted)
    {
        Id = id;
        Socket = socket;
        RemoteEndPoint = socket.RemoteEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        Stopping = stopping;
        Aborted = aborted;
    }

    /// <summary>A number unique within this server's run, for logs.</summary>
    public long Id { get; }

    /// <summary>The accepted socket.</summary>
    public Socket Socket { get; }

    /// <summary>The peer's address.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>Cancelled when the server stops accepting: finish the request in flight, take no new one.</summary>
    public CancellationToken Stopping { get; }

    /// <summary>Cancelled when the shutdown deadline passed: abandon everything now.</summary>
    public CancellationToken Aborted { get; }
}
