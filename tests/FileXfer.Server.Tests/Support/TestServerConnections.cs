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
    public static async Task<RawClient> ConnectReadyAsync(this TestServer server, CancellationToken cancellationToken)
    {
        var client = await server.ConnectAsync(cancellationToken);
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
