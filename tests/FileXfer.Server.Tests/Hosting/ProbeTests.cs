using FileXfer.Protocol;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;
using FileXfer.Server.Tls;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Tests.Hosting;

/// <summary>
/// Connections that close before sending a byte (a load balancer's TCP health check, a client giving up a connection
/// it opened ahead) are probes: a Debug line, no warning, nothing counted against the failure log's burst. A connection
/// that sent part of its handshake and closed is a failed handshake, logged as a warning as before.
/// </summary>
public sealed class ProbeTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory(Timeout = 30000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_connection_closed_before_its_first_byte_is_a_probe_logged_at_debug_without_a_warning(bool reset)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();

        await ProbeAsync(server, reset, expectedProbes: 1, token);

        var probe = Assert.Single(server.Log.WithEvent(ServerEvents.ClosedBeforeSending));
        Assert.Equal(LogLevel.Debug, probe.Level);
        Assert.Empty(server.Log.WithEvent(ServerEvents.ConnectionFailed));
        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact(Timeout = 30000)]
    public async Task Under_tls_a_connection_closed_before_its_first_byte_is_a_probe_too()
    {
        var token = TestContext.Current.CancellationToken;
        var certificate = ServerCertificate.LoadOrCreate(_directory.CreateDirectory("tls"), listenAddress: null);
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { Tls = certificate.Context });

        await ProbeAsync(server, reset: false, expectedProbes: 1, token);

        Assert.Equal(LogLevel.Debug, Assert.Single(server.Log.WithEvent(ServerEvents.ClosedBeforeSending)).Level);
        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact(Timeout = 30000)]
    public async Task A_connection_closed_after_half_the_magic_is_a_failed_handshake_logged_as_a_warning()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();

        await HalfMagicAsync(server, token);
        await server.WaitForClosedConnectionsAsync(1, token);

        var failure = Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionFailed));
        Assert.Equal(LogLevel.Warning, failure.Level);
        Assert.Contains("connection closed during the handshake", failure.Message, StringComparison.Ordinal);
        Assert.Empty(server.Log.WithEvent(ServerEvents.ClosedBeforeSending));
    }

    [Fact(Timeout = 30000)]
    public async Task Probes_leave_the_failure_logs_burst_to_real_failures()
    {
        // A burst of one failure logged per interval: had the probes counted, the half magic after them would only be counted.
        var token = TestContext.Current.CancellationToken;
        var options = new TcpServerOptions { FailureLogBurst = 1, FailureLogInterval = TimeSpan.FromMinutes(5) };
        await using var server = new TestServer(root: null, serverOptions: options);

        for (int i = 1; i <= 3; i++)
        {
            await ProbeAsync(server, reset: i % 2 == 0, expectedProbes: i, token);
        }

        await HalfMagicAsync(server, token);
        await server.WaitForClosedConnectionsAsync(4, token);

        Assert.Equal(3, server.Log.WithEvent(ServerEvents.ClosedBeforeSending).Count);
        Assert.Contains("connection closed during the handshake", Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionFailed)).Message, StringComparison.Ordinal);
        Assert.Empty(server.Log.WithEvent(ServerEvents.ConnectionFailuresSuppressed));
    }

    /// <summary>Connects, waits until the server serves the connection, and closes it (with a reset when asked) having sent nothing.</summary>
    private static async Task ProbeAsync(TestServer server, bool reset, int expectedProbes, CancellationToken cancellationToken)
    {
        var opened = server.Log.WithEvent(ServerEvents.ConnectionOpened).Count;
        await using (var probe = await server.ConnectAsync(cancellationToken))
        {
            // Accepted and served before it goes, as a health check's connection is: a reset before the accept never reaches the server.
            await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, opened + 1, TimeSpan.FromSeconds(10), cancellationToken);
            if (reset)
            {
                probe.Abort();
            }
        }

        await server.Log.WaitForEventAsync(ServerEvents.ClosedBeforeSending, expectedProbes, TimeSpan.FromSeconds(10), cancellationToken);
        await server.WaitForClosedConnectionsAsync(opened + 1, cancellationToken);
    }

    private static async Task HalfMagicAsync(TestServer server, CancellationToken cancellationToken)
    {
        await using var client = await server.ConnectAsync(cancellationToken);
        await client.SendRawAsync(ProtocolLimits.Magic[..2].ToArray(), cancellationToken);
    }
}
