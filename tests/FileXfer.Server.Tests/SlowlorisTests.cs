using System.Diagnostics;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Server.Handlers;

namespace FileXfer.Server.Tests;

/// <summary>
/// A client that trickles its handshake one byte per second makes progress all the time, so the idle timeout
/// (which restarts on progress) never fires: only the handshake deadline, which does not restart, bounds it.
/// </summary>
public class SlowlorisTests
{
    [Fact(Timeout = 60000)]
    public async Task A_handshake_trickled_one_byte_per_second_is_cut_off_at_the_handshake_deadline()
    {
        var token = TestContext.Current.CancellationToken;
        var options = new FileXferHandlerOptions { HandshakeTimeout = TimeSpan.FromSeconds(2), IdleTimeout = TimeSpan.FromSeconds(3) };
        await using var server = TestServer.Start(options);
        await using var client = await server.ConnectAsync(token);
        // The magic and a Hello: about 50 bytes, 50 seconds at this pace.
        byte[] handshake = [.. ProtocolLimits.Magic, .. RawFrames.Of(Messages.Hello(ProtocolLimits.Version, Capabilities.None, RawClient.Agent))];
        var clock = Stopwatch.StartNew();

        using var trickling = CancellationTokenSource.CreateLinkedTokenSource(token);
        var trickle = TrickleAsync(client, handshake, trickling.Token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(20));
        var answer = await client.ReadRawUntilClosedAsync(deadline.Token);
        var closedAfter = clock.Elapsed;
        await trickling.CancelAsync();
        int sent = await trickle;

        Assert.Empty(answer);
        Assert.InRange(closedAfter, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6));
        Assert.InRange(sent, 1, handshake.Length - 1);
        await server.WaitForClosedConnectionsAsync(1, token);
        var failure = Assert.Single(server.Logger.WithEvent(ServerEvents.ConnectionFailed));
        Assert.IsType<TimeoutException>(failure.Exception);
    }

    /// <summary>Sends one byte per second until all are sent, the connection breaks, or the token; returns how many went.</summary>
    private static async Task<int> TrickleAsync(RawClient client, byte[] bytes, CancellationToken cancellationToken)
    {
        int sent = 0;
        try
        {
            for (; sent < bytes.Length; sent++)
            {
                await client.SendRawAsync(bytes.AsMemory(sent, 1), cancellationToken);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The server closed the connection (or the test is done): the trickle ends.
        }

        return sent;
    }
}
