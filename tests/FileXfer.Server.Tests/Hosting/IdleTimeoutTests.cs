using FileXfer.Protocol.Framing;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;

namespace FileXfer.Server.Tests.Hosting;

/// <summary>Connections that make no progress are closed: an upload that stalls mid-body releases its temp file.</summary>
public class IdleTimeoutTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(5);

    [Fact(Timeout = 30000)]
    public async Task A_body_that_stalls_past_the_idle_timeout_closes_the_connection_and_drops_the_upload()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        await using var server = StartOnClock(clock);
        await using var client = await server.ConnectReadyAsync(token);
        FrameAssert.Is(await client.StartPutAsync(1, "stalled.bin", 1_000_000, token), MessageType.Ready, 1);
        await client.SendRawAsync(new byte[10_000], token);

        // The client stays connected but sends nothing more: the server gives up on its own once the idle timeout passes.
        await clock.AdvanceUntilAsync(server.WaitForClosedConnectionsAsync(1, token), Idle, token);

        Assert.False(File.Exists(server.PathOf("stalled.bin")));
        Assert.Empty(server.TempFiles());
        Assert.Contains(server.Log.Entries, e => e.Message.Contains("stalled", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30000)]
    public async Task An_idle_connection_between_requests_is_closed_after_the_idle_timeout()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        await using var server = StartOnClock(clock);
        await using var client = await server.ConnectReadyAsync(token);

        await clock.AdvanceUntilAsync(server.WaitForClosedConnectionsAsync(1, token), Idle, token);

        Assert.Empty(await client.ReadUntilClosedAsync(token));
    }

    /// <summary>A server whose idle timeout runs on <paramref name="clock"/>.</summary>
    private static TestServer StartOnClock(TestClock clock) =>
        new(root: null, handlerOptions: new FileXferHandlerOptions { IdleTimeout = Idle }, serverOptions: new TcpServerOptions { TimeProvider = clock });
}
