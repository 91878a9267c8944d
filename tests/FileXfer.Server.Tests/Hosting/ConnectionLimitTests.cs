using System.Net;
using System.Net.Sockets;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Server.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Server.Tests.Hosting;

/// <summary>
/// Connection limits in all and per address: a connection over them gets the magic and Error{Unavailable} in place
/// of Welcome and is closed; a full server makes room by evicting the oldest connection parked in its handshake (there
/// for <see cref="TcpServerOptions.EvictionAge"/> or more), and refuses the newcomer as busy while they are all younger.
/// Clients play different hosts by connecting from 127.0.0.x (Linux routes all of 127/8 to loopback).
/// </summary>
public class ConnectionLimitTests
{
    private static readonly IPAddress HostA = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress HostB = IPAddress.Parse("127.0.0.3");
    private static readonly IPAddress HostC = IPAddress.Parse("127.0.0.4");

    [Fact(Timeout = 30000)]
    public async Task A_connection_over_the_per_address_limit_is_refused_with_unavailable_and_other_addresses_still_get_in()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { MaxConnectionsPerAddress = 2 });
        await using var first = await server.ConnectReadyFromAsync(HostA, token);
        await using var second = await server.ConnectReadyFromAsync(HostA, token);

        await using var third = await RawClient.ConnectFromAsync(server.EndPoint, HostA, token);
        var refusal = await ReadRefusalAsync(third, token);
        await using var other = await server.ConnectReadyFromAsync(HostB, token);

        FrameAssert.IsError(refusal, ErrorCode.Unavailable, 0);
        Assert.Equal("too many connections from your address; try again later", refusal.GetStringOrNull(FieldTag.Message));
        Assert.Equal(3, server.Server.ActiveConnections);
    }

    [Fact(Timeout = 30000)]
    public async Task A_connection_over_the_total_limit_is_refused_when_every_connection_has_completed_its_handshake()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { MaxConnections = 2 });
        await using var first = await server.ConnectReadyFromAsync(HostA, token);
        await using var second = await server.ConnectReadyFromAsync(HostB, token);

        await using var third = await RawClient.ConnectFromAsync(server.EndPoint, HostC, token);
        var refusal = await ReadRefusalAsync(third, token);

        FrameAssert.IsError(refusal, ErrorCode.Unavailable, 0);
        Assert.Equal("too many connections; try again later", refusal.GetStringOrNull(FieldTag.Message));
        // The log says why none made room: a bigger limit, not a shorter eviction age, would have let it in.
        Assert.Contains("too many connections, and none to evict: all have completed their handshakes", Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionRefused)).Message, StringComparison.Ordinal);
        // The established connections go on being served.
        FrameAssert.Is(await first.PutAsync(1, "a.txt", "a"u8.ToArray(), token), MessageType.Ok, 1);
    }

    [Theory(Timeout = 30000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_full_server_whose_handshakes_are_young_refuses_a_new_connection_as_busy_and_evicts_none(bool perAddress)
    {
        // A client opening its connections together (a tree's listing connection and its transfer connections) fills the
        // server with its own handshakes: its first connection, a round trip or two into its handshake, must not be cut
        // for its last; that one is refused as busy, which the client's tree and ranged transfers take in their stride.
        var token = TestContext.Current.CancellationToken;
        var clock = new FakeTimeProvider();
        var options = perAddress
            ? new TcpServerOptions { MaxConnectionsPerAddress = 2, TimeProvider = clock }
            : new TcpServerOptions { MaxConnections = 2, TimeProvider = clock };
        await using var server = new TestServer(root: null, serverOptions: options);
        await using var first = await RawClient.ConnectFromAsync(server.EndPoint, HostA, token);
        await first.SendRawAsync(ProtocolLimits.Magic[..2].ToArray(), token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 1, TimeSpan.FromSeconds(5), token);
        await using var second = await RawClient.ConnectFromAsync(server.EndPoint, perAddress ? HostA : HostB, token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 2, TimeSpan.FromSeconds(5), token);
        // Just short of the age at which a connection in its handshake looks parked.
        clock.Advance(options.EvictionAge - TimeSpan.FromMilliseconds(1));

        await using var third = await RawClient.ConnectFromAsync(server.EndPoint, perAddress ? HostA : HostC, token);
        var refusal = await ReadRefusalAsync(third, token);

        FrameAssert.IsError(refusal, ErrorCode.Unavailable, 0);
        Assert.Equal(perAddress ? "too many connections from your address; try again later" : "too many connections; try again later", refusal.GetStringOrNull(FieldTag.Message));
        // Admission evicts, and logs it, before the newcomer is answered: the refusal means no one was evicted.
        Assert.Empty(server.Log.WithEvent(ServerEvents.ConnectionEvicted));
        Assert.Contains("none to evict: 2 in their handshakes, all younger than the eviction age of 1 s", Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionRefused)).Message, StringComparison.Ordinal);
        // Both still finish their handshakes, the first one first.
        await first.SendRawAsync(ProtocolLimits.Magic[2..].ToArray(), token);
        await first.SendHelloAsync(ProtocolLimits.Version, token);
        await first.ReadMagicAsync(token);
        await first.ReadAsync(MessageType.Welcome, token);
        await second.HandshakeAsync(token);
        Assert.Equal(2, server.Server.ActiveConnections);
    }

    [Fact(Timeout = 30000)]
    public async Task A_full_server_evicts_its_oldest_connection_parked_in_the_handshake_to_let_a_new_client_in()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new FakeTimeProvider();
        var options = new TcpServerOptions { MaxConnections = 2, TimeProvider = clock };
        await using var server = new TestServer(root: null, serverOptions: options);
        await using var oldest = await RawClient.ConnectFromAsync(server.EndPoint, HostA, token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 1, TimeSpan.FromSeconds(5), token);
        await using var younger = await RawClient.ConnectFromAsync(server.EndPoint, HostB, token);
        await younger.SendRawAsync(ProtocolLimits.Magic[..2].ToArray(), token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 2, TimeSpan.FromSeconds(5), token);
        // Both have now been in their handshakes long enough to look parked; the handshake deadline is still far off.
        clock.Advance(options.EvictionAge);

        // Only eviction lets this client in now.
        await using var client = await server.ConnectReadyFromAsync(HostC, token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(5));
        var oldestAnswer = await oldest.ReadRawUntilClosedAsync(deadline.Token);

        Assert.Empty(oldestAnswer);
        FrameAssert.Is(await client.PutAsync(1, "in.txt", "in"u8.ToArray(), token), MessageType.Ok, 1);
        var evicted = Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionEvicted));
        Assert.Contains("127.0.0.2", evicted.Message, StringComparison.Ordinal);
        Assert.Empty(server.Log.WithEvent(ServerEvents.ConnectionFailed));
        // The younger newcomer is still connected and may still finish its handshake.
        await younger.SendRawAsync(ProtocolLimits.Magic[2..].ToArray(), token);
        await younger.SendHelloAsync(ProtocolLimits.Version, token);
        await younger.ReadMagicAsync(token);
        await younger.ReadAsync(MessageType.Welcome, token);
    }

    [Fact(Timeout = 30000)]
    public async Task Connections_stalled_in_the_handshake_from_one_address_make_room_for_a_client_from_that_address()
    {
        // Behind one NAT address, or from the client's own machine, stalled connections must not lock a real client out.
        var token = TestContext.Current.CancellationToken;
        var clock = new FakeTimeProvider();
        var options = new TcpServerOptions { MaxConnectionsPerAddress = 2, TimeProvider = clock };
        await using var server = new TestServer(root: null, serverOptions: options);
        await using var stalled1 = await RawClient.ConnectFromAsync(server.EndPoint, HostA, token);
        await using var stalled2 = await RawClient.ConnectFromAsync(server.EndPoint, HostA, token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 2, TimeSpan.FromSeconds(5), token);
        clock.Advance(options.EvictionAge);

        await using var client = await server.ConnectReadyFromAsync(HostA, token);

        FrameAssert.Is(await client.PutAsync(1, "in.txt", "in"u8.ToArray(), token), MessageType.Ok, 1);
        var evicted = Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionEvicted));
        Assert.Contains("127.0.0.2", evicted.Message, StringComparison.Ordinal);
        Assert.Empty(server.Log.WithEvent(ServerEvents.ConnectionRefused));
    }

    [Fact(Timeout = 30000)]
    public async Task A_configured_eviction_age_keeps_a_younger_handshake_and_evicts_an_older_one()
    {
        // 5 s, where a tenth of the handshake timeout would be 3 s: at 3 s and beyond, short of 5 s, nothing is evicted.
        var token = TestContext.Current.CancellationToken;
        var clock = new FakeTimeProvider();
        var options = new TcpServerOptions { MaxConnections = 2, HandshakeTimeout = TimeSpan.FromSeconds(30), EvictionAge = TimeSpan.FromSeconds(5), TimeProvider = clock };
        await using var server = new TestServer(root: null, serverOptions: options);
        await using var oldest = await RawClient.ConnectFromAsync(server.EndPoint, HostA, token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 1, TimeSpan.FromSeconds(5), token);
        await using var younger = await RawClient.ConnectFromAsync(server.EndPoint, HostB, token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 2, TimeSpan.FromSeconds(5), token);
        clock.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));

        await using var early = await RawClient.ConnectFromAsync(server.EndPoint, HostC, token);
        var refusal = await ReadRefusalAsync(early, token);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await using var client = await server.ConnectReadyFromAsync(HostC, token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(5));
        var oldestAnswer = await oldest.ReadRawUntilClosedAsync(deadline.Token);

        FrameAssert.IsError(refusal, ErrorCode.Unavailable, 0);
        Assert.Contains("none to evict: 2 in their handshakes, all younger than the eviction age of 5 s", Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionRefused)).Message, StringComparison.Ordinal);
        Assert.Empty(oldestAnswer);
        FrameAssert.Is(await client.PutAsync(1, "in.txt", "in"u8.ToArray(), token), MessageType.Ok, 1);
        // One eviction, of the oldest, and its line says how long it had been in its handshake.
        var evicted = Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionEvicted));
        Assert.Contains("127.0.0.2", evicted.Message, StringComparison.Ordinal);
        Assert.Contains("still in its handshake after 5000 ms", evicted.Message, StringComparison.Ordinal);
        // The younger one, 5 s in its handshake too by now but not needed, may still finish it.
        await younger.HandshakeAsync(token);
    }

    [Fact]
    public void The_eviction_age_is_a_tenth_of_the_handshake_timeout_until_it_is_set()
    {
        var options = new TcpServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(30) };
        var followed = options.EvictionAge;
        options.EvictionAge = TimeSpan.FromSeconds(7);
        options.HandshakeTimeout = TimeSpan.FromSeconds(60);

        Assert.Equal(TimeSpan.FromSeconds(1), new TcpServerOptions().EvictionAge);
        Assert.Equal(TimeSpan.FromSeconds(3), followed);
        Assert.Equal(TimeSpan.FromSeconds(7), options.EvictionAge);
    }

    [Theory]
    [InlineData(10, 10)]
    [InlineData(10, 11)]
    [InlineData(10, 0)]
    [InlineData(0, 1)]
    public void A_server_is_not_made_with_an_eviction_age_it_could_never_reach(double handshakeSeconds, double evictionSeconds)
    {
        // At or past the handshake deadline, no connection is ever old enough: eviction would be off without a word.
        var options = new TcpServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(handshakeSeconds), EvictionAge = TimeSpan.FromSeconds(evictionSeconds) };

        Assert.Throws<ArgumentOutOfRangeException>(() => new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), _ => throw new InvalidOperationException("never served"), NullLogger.Instance, options));
    }

    [Fact(Timeout = 60000)]
    public async Task A_flood_of_bad_connections_is_logged_as_a_burst_then_counted()
    {
        var token = TestContext.Current.CancellationToken;
        var options = new TcpServerOptions { FailureLogBurst = 5, FailureLogInterval = TimeSpan.FromMinutes(5) };
        await using var server = new TestServer(root: null, serverOptions: options);

        for (int i = 0; i < 40; i++)
        {
            await using var garbage = await RawClient.ConnectFromAsync(server.EndPoint, HostB, token);
            await garbage.SendRawAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray(), token);
            using var deadline = Deadline.After(TimeSpan.FromSeconds(5));
            await garbage.ReadRawUntilClosedAsync(deadline.Token);
        }

        await server.WaitForClosedConnectionsAsync(40, token);
        Assert.Equal(5, server.Log.WithEvent(ServerEvents.ConnectionFailed).Count);
        // The closed lines of connections that never completed a handshake are Debug, not Information.
        Assert.All(server.Log.WithEvent(ServerEvents.ConnectionClosed), e => Assert.Equal(LogLevel.Debug, e.Level));
    }

    [Fact(Timeout = 30000)]
    public async Task Refusals_are_logged_at_most_once_per_interval()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { MaxConnectionsPerAddress = 1, RefusalLogInterval = TimeSpan.FromMinutes(5) });
        await using var holder = await server.ConnectReadyFromAsync(HostA, token);

        for (int i = 0; i < 20; i++)
        {
            await using var refused = await RawClient.ConnectFromAsync(server.EndPoint, HostA, token);
            await ReadRefusalAsync(refused, token);
        }

        var report = Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionRefused));
        Assert.Equal(LogLevel.Warning, report.Level);
        Assert.Contains("too many connections from your address", report.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Refused_connections_that_never_take_their_answer_are_closed_and_do_not_pile_up()
    {
        var token = TestContext.Current.CancellationToken;
        var options = new TcpServerOptions { MaxConnectionsPerAddress = 1, MaxPendingRefusals = 3, RefusalTimeout = TimeSpan.FromMilliseconds(500) };
        await using var server = new TestServer(root: null, serverOptions: options);
        await using var holder = await server.ConnectReadyFromAsync(HostA, token);
        var refused = new List<RawClient>();
        try
        {
            int mostPending = 0;
            int resetAtOnce = 0;
            for (int i = 0; i < 20; i++)
            {
                // They neither send a Hello nor close: the server must not wait for them.
                try
                {
                    refused.Add(await RawClient.ConnectFromAsync(server.EndPoint, HostA, token));
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
                {
                    // Past the pending refusals the server resets a connection at once, which may beat the connect's own completion.
                    resetAtOnce++;
                }

                mostPending = Math.Max(mostPending, server.Server.PendingRefusals);
            }

            using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
            var answers = await Task.WhenAll(refused.Select(c => c.ReadRawUntilClosedAsync(deadline.Token)));
            int answered = answers.Count(a => a.Length > 0);
            // The answered ones hold on without closing: the server gives up on each after the refusal timeout.
            await server.Log.WaitForEventAsync(ServerEvents.RefusalNotDelivered, answered, TimeSpan.FromSeconds(5), token);

            Assert.InRange(mostPending, 0, 3);
            Assert.InRange(answered, 1, 20);
            Assert.Equal(20, resetAtOnce + answers.Length);
            Assert.All(answers.Where(a => a.Length > 0), a => Assert.Equal(ProtocolLimits.Magic.ToArray(), a[..4]));
            Assert.Equal(0, server.Server.PendingRefusals);
            Assert.Equal(1, server.Server.ActiveConnections);
        }
        finally
        {
            foreach (var client in refused)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact(Timeout = 30000)]
    public async Task A_closed_connection_frees_its_place_for_its_address()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { MaxConnectionsPerAddress = 1 });
        await using (var first = await server.ConnectReadyFromAsync(HostA, token))
        {
            FrameAssert.Is(await first.PutAsync(1, "one.txt", "1"u8.ToArray(), token), MessageType.Ok, 1);
        }

        await server.WaitForClosedConnectionsAsync(1, token);
        await using var second = await server.ConnectReadyFromAsync(HostA, token);

        FrameAssert.Is(await second.PutAsync(1, "two.txt", "2"u8.ToArray(), token), MessageType.Ok, 1);
        Assert.Empty(server.Log.WithEvent(ServerEvents.ConnectionRefused));
    }

    /// <summary>Sends the magic and Hello as a real client does; expects the magic, one Error, and the close.</summary>
    private static async Task<Frame> ReadRefusalAsync(RawClient client, CancellationToken cancellationToken)
    {
        await client.SendMagicAsync(cancellationToken);
        await client.SendHelloAsync(ProtocolLimits.Version, cancellationToken);
        await client.ReadMagicAsync(cancellationToken);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(5));
        return Assert.Single(await client.ReadUntilClosedAsync(deadline.Token));
    }
}
