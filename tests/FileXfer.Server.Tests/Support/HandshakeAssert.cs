namespace FileXfer.Server.Tests.Support;

/// <summary>What the server logs when it closes a connection at its handshake deadline.</summary>
public static class HandshakeAssert
{
    /// <summary>The server's one connection closed, failed with a <see cref="TimeoutException"/> whose message has <paramref name="message"/>.</summary>
    public static async Task TimedOutAsync(TestServer server, string message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        await server.WaitForClosedConnectionsAsync(1, cancellationToken);
        var failure = Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionFailed));
        Assert.IsType<TimeoutException>(failure.Exception);
        Assert.Contains(message, failure.Message, StringComparison.Ordinal);
    }
}
