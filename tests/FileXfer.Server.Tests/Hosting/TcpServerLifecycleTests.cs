using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Hosting;

namespace FileXfer.Server.Tests.Hosting;

/// <summary>Binding, serving and stopping the host: drain within the deadline, abort after it.</summary>
public sealed class TcpServerLifecycleTests
{
    [Fact(Timeout = 30000)]
    public async Task Port_zero_binds_a_real_port_on_loopback()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();

        Assert.Equal(IPAddress.Loopback, server.Server.LocalEndPoint.Address);
        Assert.InRange(server.Server.LocalEndPoint.Port, 1, 65535);
        await using var client = await server.ConnectReadyAsync(token);
    }

    [Fact(Timeout = 30000)]
    public async Task The_endpoint_is_unknown_before_start_and_start_cannot_run_twice()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), _ => throw new InvalidOperationException(), new RecordingLogger());

        Assert.Throws<InvalidOperationException>(() => server.LocalEndPoint);
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.ServeForeverAsync(token));
        server.Start();
        Assert.Throws<InvalidOperationException>(server.Start);
    }

    [Fact(Timeout = 30000)]
    public async Task A_failing_handler_is_logged_finished_and_the_server_serves_on()
    {
        var token = TestContext.Current.CancellationToken;
        var calls = new ConcurrentQueue<string>();
        var logger = new RecordingLogger();
        await using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), context => new RecordingHandler(context, calls), logger);
        server.Start();
        var serving = server.ServeForeverAsync(token);

        for (int i = 0; i < 4; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(server.LocalEndPoint, token);
            var buffer = new byte[16];
            int read = await socket.ReceiveAsync(buffer, token);
            Assert.Equal(i % 2 == 1 ? 3 : 0, read);
            await logger.WaitForEventAsync(ServerEvents.ConnectionClosed, i + 1, TimeSpan.FromSeconds(5), token);
        }

        await server.StopAsync();
        await serving.WaitAsync(TimeSpan.FromSeconds(5), token);

        Assert.Equal(2, logger.WithEvent(ServerEvents.ConnectionFailed).Count);
        Assert.All(logger.WithEvent(ServerEvents.ConnectionFailed), e => Assert.IsType<InvalidOperationException>(e.Exception));
        Assert.Equal(["1:setup", "1:handle", "1:finish", "2:setup", "2:handle", "2:finish"], calls.Take(6));
        Assert.Equal(0, server.ActiveConnections);
    }

    [Fact(Timeout = 30000)]
    public async Task Connections_that_end_at_once_are_not_counted_as_active_afterwards()
    {
        var token = TestContext.Current.CancellationToken;
        var logger = new RecordingLogger();
        // Every failure logged one by one here, to count them.
        var options = new TcpServerOptions { FailureLogBurst = int.MaxValue };
        await using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), _ => throw new InvalidOperationException("refused at once"), logger, options);
        server.Start();
        var serving = server.ServeForeverAsync(token);
        const int Loops = 4;
        const int PerLoop = 500;

        // A connection whose handler fails at once races its own registration; many of them make a lost race likely.
        await Task.WhenAll(Enumerable.Range(0, Loops).Select(async _ =>
        {
            for (int i = 0; i < PerLoop; i++)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(server.LocalEndPoint, token);
                Assert.Equal(0, await socket.ReceiveAsync(new byte[1], token));
            }
        }));
        await logger.WaitForEventAsync(ServerEvents.ConnectionClosed, Loops * PerLoop, TimeSpan.FromSeconds(10), token);

        Assert.Equal(0, server.ActiveConnections);
        Assert.Equal(Loops * PerLoop, logger.WithEvent(ServerEvents.ConnectionFailed).Count);
        await server.StopAsync();
        await serving.WaitAsync(TimeSpan.FromSeconds(5), token);
    }

    [Fact(Timeout = 30000)]
    public async Task Serving_ends_when_its_token_is_cancelled()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(token);
        var serving = server.Server.ServeForeverAsync(cancel.Token);

        await cancel.CancelAsync();

        await serving.WaitAsync(TimeSpan.FromSeconds(5), token);
    }

    [Fact(Timeout = 60000)]
    public async Task Stop_under_a_pending_accept_ends_serving_without_an_error()
    {
        // Closing the listener under a pending accept may end it with OperationAborted instead of a
        // cancellation; either way serving must end quietly. A race, so it is run many times.
        var token = TestContext.Current.CancellationToken;
        for (int i = 0; i < 300; i++)
        {
            await using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), _ => throw new InvalidOperationException(), new RecordingLogger());
            server.Start();
            var serving = server.ServeForeverAsync(token);
            if (i % 2 == 1)
            {
                await Task.Yield();
            }

            await server.StopAsync();
            await serving.WaitAsync(TimeSpan.FromSeconds(5), token);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Stop_closes_an_idle_connection_at_once()
    {
        var token = TestContext.Current.CancellationToken;
        // On a clock that never moves, the shutdown deadline never passes: the stop can end only by closing at once.
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(20), TimeProvider = new TestClock() });
        await using var client = await server.ConnectReadyAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 1, "/"), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 1);

        await server.Server.StopAsync().WaitAsync(token);

        using var deadline = Deadline.After(TimeSpan.FromSeconds(5));
        Assert.Empty(await client.ReadUntilClosedAsync(deadline.Token));
        await server.Serving.WaitAsync(TimeSpan.FromSeconds(5), token);
        Assert.Equal(0, server.Server.ActiveConnections);
        Assert.Empty(server.Log.WithEvent(ServerEvents.ShutdownDeadline));
    }

    [Theory(Timeout = 30000)]
    [InlineData(0)]
    [InlineData(4)]
    public async Task Stop_closes_a_connection_that_has_not_finished_its_handshake_at_once(int bytesSent)
    {
        var token = TestContext.Current.CancellationToken;
        // On a clock that never moves, neither the shutdown nor the handshake deadline passes: the stop can end only by closing at once.
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(20), TimeProvider = new TestClock() });
        await using var client = await server.ConnectAsync(token);
        await client.SendRawAsync("FXFR"u8.ToArray().AsMemory(0, bytesSent), token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 1, TimeSpan.FromSeconds(5), token);

        await server.Server.StopAsync().WaitAsync(token);

        using var deadline = Deadline.After(TimeSpan.FromSeconds(5));
        Assert.Empty(await client.ReadRawUntilClosedAsync(deadline.Token));
        Assert.Empty(server.Log.WithEvent(ServerEvents.ShutdownDeadline));
    }

    [Fact(Timeout = 30000)]
    public async Task Stop_lets_a_put_in_flight_finish_within_the_deadline()
    {
        var token = TestContext.Current.CancellationToken;
        // On a clock that never moves, the shutdown deadline never passes while the put goes on.
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(20), TimeProvider = new TestClock() });
        var content = RandomNumberGenerator.GetBytes(1024 * 1024);
        await using var client = await server.ConnectReadyAsync(token);
        FrameAssert.Is(await client.StartPutAsync(1, "late.bin", content.Length, token), MessageType.Ready, 1);
        await client.SendRawAsync(content.AsMemory(0, content.Length / 2), token);

        var stopping = server.Server.StopAsync();
        await server.Log.WaitForEventAsync(ServerEvents.Draining, 1, TimeSpan.FromSeconds(5), token);
        await AssertNotServedAsync(server, token);
        Assert.False(stopping.IsCompleted);
        await client.SendRawAsync(content.AsMemory(content.Length / 2), token);
        await client.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(content)), token);
        var ok = await client.ReadAsync(token);
        await stopping.WaitAsync(token);

        FrameAssert.Is(ok, MessageType.Ok, 1);
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf("late.bin"), token));
        Assert.Empty(server.TempFiles());
        using var deadline = Deadline.After(TimeSpan.FromSeconds(5));
        Assert.Empty(await client.ReadUntilClosedAsync(deadline.Token));
        Assert.Empty(server.Log.WithEvent(ServerEvents.ShutdownDeadline));
    }

    /// <summary>
    /// A new connection after the stop began is refused, or, when it raced into the backlog while the listener was
    /// closing, reset without a welcome.
    /// </summary>
    private static async Task AssertNotServedAsync(TestServer server, CancellationToken cancellationToken)
    {
        RawClient late;
        try
        {
            late = await server.ConnectAsync(cancellationToken);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
        {
            return;
        }

        await using (late)
        {
            try
            {
                await late.SendMagicAsync(cancellationToken);
                await late.SendHelloAsync(ProtocolLimits.Version, cancellationToken);
            }
            catch (ConnectionLostException)
            {
                // Reset before the hello went out: not served either.
            }

            using var deadline = Deadline.After(TimeSpan.FromSeconds(5));
            Assert.Empty(await late.ReadRawUntilClosedAsync(deadline.Token));
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Stop_aborts_a_put_still_in_flight_at_the_deadline_and_leaves_no_temp_file()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        var shutdownTimeout = TimeSpan.FromSeconds(30);
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { ShutdownTimeout = shutdownTimeout, TimeProvider = clock });
        var content = RandomNumberGenerator.GetBytes(1024 * 1024);
        await using var client = await server.ConnectReadyAsync(token);
        FrameAssert.Is(await client.StartPutAsync(1, "stuck.bin", content.Length, token), MessageType.Ready, 1);
        await client.SendRawAsync(content.AsMemory(0, content.Length / 2), token);
        Assert.Single(server.TempFiles());

        var stopping = server.Server.StopAsync();
        // Logged once the deadline runs.
        await server.Log.WaitForEventAsync(ServerEvents.Draining, 1, TimeSpan.FromSeconds(10), token);
        Assert.False(stopping.IsCompleted);
        clock.Advance(shutdownTimeout);
        await stopping.WaitAsync(token);

        Assert.Empty(server.TempFiles());
        Assert.False(File.Exists(server.PathOf("stuck.bin")));
        Assert.Equal(0, server.Server.ActiveConnections);
        Assert.Single(server.Log.WithEvent(ServerEvents.ShutdownDeadline));
        Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionAborted));
        using var deadline = Deadline.After(TimeSpan.FromSeconds(5));
        Assert.Empty(await client.ReadUntilClosedAsync(deadline.Token));
    }
}
