using System.Net;

namespace FileXfer.Server.Tests.Support;

/// <summary>Raw connections to a <see cref="TestServer"/>.</summary>
public static class TestServerConnections
{
    public static Task<RawClient> ConnectAsync(this TestServer server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        return RawClient.ConnectAsync(server.EndPoint, cancellationToken);
    }

    /// <summary>A connection that has completed the handshake.</summary>
    public static Task<RawClient> ConnectReadyAsync(this TestServer server, CancellationToken cancellationToken) =>
        server.ConnectReadyFromAsync(localAddress: null, cancellationToken);

    /// <summary>A connection from <paramref name="localAddress"/> (see <see cref="RawClient.ConnectFromAsync"/>) that has completed the handshake.</summary>
    public static async Task<RawClient> ConnectReadyFromAsync(this TestServer server, IPAddress? localAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var client = await RawClient.ConnectFromAsync(server.EndPoint, localAddress, cancellationToken);
        try
        {
            await client.HandshakeAsync(cancellationToken);
            return client;
        }
        catch (Exception)
        {
            await client.DisposeAsync();
            throw;
        }
    }
}
