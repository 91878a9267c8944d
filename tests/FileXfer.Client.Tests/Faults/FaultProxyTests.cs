using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Client.Tests.Faults;

/// <summary>The fault proxy itself, over real sockets with raw bytes: each fault does exactly what it says, and nothing else.</summary>
public class FaultProxyTests
{
    [Fact(Timeout = 30000)]
    public async Task Bytes_pass_unchanged_in_both_directions_and_are_counted()
    {
        var token = TestContext.Current.CancellationToken;
        using var target = new LoopbackTarget();
        await using var proxy = new FaultProxy(target.EndPoint);
        var up = TestFiles.RandomBytes(300_000, seed: 1);
        var down = TestFiles.RandomBytes(200_000, seed: 2);

        await using var client = await RawSockets.ConnectAsync(proxy.EndPoint, token);
        await using var server = await target.AcceptAsync(token);
        var atServer = RawSockets.ReadToEndAsync(server, token);
        var atClient = RawSockets.ReadToEndAsync(client, token);
        await Task.WhenAll(RawSockets.SendAndFinishAsync(client, up, token), RawSockets.SendAndFinishAsync(server, down, token));

        AssertOrderlyEnd(up, await atServer);
        AssertOrderlyEnd(down, await atClient);
        var connection = Assert.Single(proxy.AcceptedConnections);
        await connection.Closed.WaitAsync(token);
        Assert.Equal(1, proxy.Connections);
        Assert.Equal(up.Length, proxy.UpstreamBytes);
        Assert.Equal(down.Length, proxy.DownstreamBytes);
        Assert.Equal(up.Length, connection.Upstream.Bytes);
        Assert.Equal(down.Length, connection.Downstream.Bytes);
        Assert.False(connection.Upstream.WasCut || connection.Downstream.WasCut);
    }

    [Theory(Timeout = 30000)]
    [InlineData(1)]
    [InlineData(7)]
    public async Task Sliced_writes_deliver_the_same_bytes_through_an_echo(int sliceSize)
    {
        var token = TestContext.Current.CancellationToken;
        using var target = new LoopbackTarget();
        await using var proxy = new FaultProxy(target.EndPoint) { Plan = FaultPlan.Both(DirectionFaults.Slice(sliceSize)) };
        var bytes = TestFiles.RandomBytes(20_000, seed: 3);

        await using var client = await RawSockets.ConnectAsync(proxy.EndPoint, token);
        await using var server = await target.AcceptAsync(token);
        var echo = EchoAsync(server, token);
        var back = RawSockets.ReadToEndAsync(client, token);
        await RawSockets.SendAndFinishAsync(client, bytes, token);

        AssertOrderlyEnd(bytes, await back);
        await echo;
        var connection = Assert.Single(proxy.AcceptedConnections);
        Assert.Equal(bytes.Length, connection.Upstream.Bytes);
        Assert.Equal(bytes.Length, connection.Downstream.Bytes);
        // At least one write per slice of every read; with 1-byte slices exactly one write per byte.
        long fewestWrites = (bytes.Length + sliceSize - 1) / sliceSize;
        Assert.InRange(connection.Upstream.Writes, fewestWrites, bytes.Length);
        Assert.InRange(connection.Downstream.Writes, fewestWrites, bytes.Length);
        if (sliceSize == 1)
        {
            Assert.Equal(bytes.Length, connection.Upstream.Writes);
        }
    }

    [Theory(Timeout = 30000)]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65_536)]
    [InlineData(100_003)]
    public async Task A_cut_upstream_delivers_exactly_N_bytes_then_the_end_of_the_stream(int cutAfter)
    {
        var token = TestContext.Current.CancellationToken;
        using var target = new LoopbackTarget();
        await using var proxy = new FaultProxy(target.EndPoint) { Plan = FaultPlan.Up(DirectionFaults.Cut(cutAfter)) };
        var bytes = TestFiles.RandomBytes(300_000, seed: 4);

        await using var client = await RawSockets.ConnectAsync(proxy.EndPoint, token);
        await using var server = await target.AcceptAsync(token);
        var sending = RawSockets.TrySendAsync(client, bytes, token);
        var (received, reset) = await RawSockets.ReadToEndAsync(server, token);

        Assert.False(reset);
        Assert.Equal(bytes[..cutAfter], received);
        var connection = Assert.Single(proxy.AcceptedConnections);
        await connection.Closed.WaitAsync(token);
        Assert.True(connection.Upstream.WasCut);
        Assert.Equal(cutAfter, connection.Upstream.Bytes);
        Assert.Equal(cutAfter, proxy.UpstreamBytes);
        // The client's side is closed too: its reads end (its unread bytes may turn the close into a reset).
        var (atClient, _) = await RawSockets.ReadToEndAsync(client, token);
        Assert.Empty(atClient);
        await sending;
    }

    [Fact(Timeout = 30000)]
    public async Task A_cut_downstream_with_reset_resets_the_client_after_at_most_N_bytes()
    {
        var token = TestContext.Current.CancellationToken;
        using var target = new LoopbackTarget();
        await using var proxy = new FaultProxy(target.EndPoint) { Plan = FaultPlan.Down(DirectionFaults.Cut(50_000, reset: true)) };
        var bytes = TestFiles.RandomBytes(300_000, seed: 5);

        await using var client = await RawSockets.ConnectAsync(proxy.EndPoint, token);
        await using var server = await target.AcceptAsync(token);
        var sending = RawSockets.TrySendAsync(server, bytes, token);
        var (received, reset) = await RawSockets.ReadToEndAsync(client, token);

        Assert.True(reset, "the client should see a reset, not an orderly end");
        Assert.InRange(received.Length, 0, 50_000);
        Assert.Equal(bytes[..received.Length], received);
        var connection = Assert.Single(proxy.AcceptedConnections);
        await connection.Closed.WaitAsync(token);
        Assert.True(connection.Downstream.WasCut);
        Assert.Equal(50_000, connection.Downstream.Bytes);
        // The target is reset as well: its write or its next read fails.
        Assert.False(await sending && !(await RawSockets.ReadToEndAsync(server, token)).Reset);
    }

    [Theory(Timeout = 30000)]
    [InlineData(true, 0L, 0)]
    [InlineData(true, 200_000L, 3)]
    [InlineData(false, 65_535L, 7)]
    [InlineData(false, 299_999L, 5)]
    public async Task A_flip_inverts_exactly_one_bit_at_its_offset(bool upstream, long offset, int bit)
    {
        var token = TestContext.Current.CancellationToken;
        using var target = new LoopbackTarget();
        var flip = DirectionFaults.Flip(offset, bit);
        await using var proxy = new FaultProxy(target.EndPoint) { Plan = upstream ? FaultPlan.Up(flip) : FaultPlan.Down(flip) };
        var bytes = TestFiles.RandomBytes(300_000, seed: 6);

        await using var client = await RawSockets.ConnectAsync(proxy.EndPoint, token);
        await using var server = await target.AcceptAsync(token);
        var (sender, receiver) = upstream ? (client, server) : (server, client);
        var receiving = RawSockets.ReadToEndAsync(receiver, token);
        await RawSockets.SendAndFinishAsync(sender, bytes, token);
        var (received, reset) = await receiving;

        Assert.False(reset);
        Assert.Equal(bytes.Length, received.Length);
        var differences = Enumerable.Range(0, bytes.Length).Where(i => bytes[i] != received[i]).ToArray();
        Assert.Equal([(int)offset], differences);
        Assert.Equal(1 << bit, bytes[offset] ^ received[offset]);
        var connection = Assert.Single(proxy.AcceptedConnections);
        Assert.True((upstream ? connection.Upstream : connection.Downstream).Flipped);
        Assert.False((upstream ? connection.Downstream : connection.Upstream).Flipped);
    }

    [Fact(Timeout = 30000)]
    public async Task A_timed_stall_holds_the_bytes_after_N_until_the_proxy_clock_passes_its_duration()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new FakeTimeProvider();
        using var target = new LoopbackTarget();
        await using var proxy = new FaultProxy(target.EndPoint, clock) { Plan = FaultPlan.Up(DirectionFaults.Stall(10_000, TimeSpan.FromSeconds(30))) };
        var bytes = TestFiles.RandomBytes(100_000, seed: 7);

        await using var client = await RawSockets.ConnectAsync(proxy.EndPoint, token);
        await using var server = await target.AcceptAsync(token);
        var receiving = RawSockets.ReadToEndAsync(server, token);
        await RawSockets.SendAndFinishAsync(client, bytes, token);
        var connection = Assert.Single(proxy.AcceptedConnections);
        await connection.Upstream.StallStarted.WaitAsync(token);

        Assert.Equal(10_000, connection.Upstream.Bytes);
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(10_000, connection.Upstream.Bytes);
        Assert.False(receiving.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));

        AssertOrderlyEnd(bytes, await receiving);
        Assert.Equal(bytes.Length, connection.Upstream.Bytes);
    }

    [Fact(Timeout = 30000)]
    public async Task A_stall_keeps_the_connection_open_and_the_other_direction_flowing_until_released()
    {
        var token = TestContext.Current.CancellationToken;
        using var target = new LoopbackTarget();
        await using var proxy = new FaultProxy(target.EndPoint) { Plan = FaultPlan.Up(DirectionFaults.Stall(0)) };
        var up = TestFiles.RandomBytes(50_000, seed: 8);
        var down = TestFiles.RandomBytes(50_000, seed: 9);

        await using var client = await RawSockets.ConnectAsync(proxy.EndPoint, token);
        await using var server = await target.AcceptAsync(token);
        var atServer = RawSockets.ReadToEndAsync(server, token);
        await RawSockets.SendAndFinishAsync(client, up, token);
        var connection = Assert.Single(proxy.AcceptedConnections);
        await connection.Upstream.StallStarted.WaitAsync(token);

        // Downstream is not stalled: a whole exchange passes while upstream holds everything.
        var atClient = RawSockets.ReadToEndAsync(client, token);
        await RawSockets.SendAndFinishAsync(server, down, token);
        AssertOrderlyEnd(down, await atClient);
        Assert.Equal(0, connection.Upstream.Bytes);
        Assert.False(atServer.IsCompleted);

        proxy.ReleaseStalls();

        AssertOrderlyEnd(up, await atServer);
        await connection.Closed.WaitAsync(token);
    }

    [Fact(Timeout = 30000)]
    public async Task Queued_plans_go_to_the_next_connections_in_order_then_the_default_plan()
    {
        var token = TestContext.Current.CancellationToken;
        using var target = new LoopbackTarget();
        await using var proxy = new FaultProxy(target.EndPoint);
        var cut = FaultPlan.Up(DirectionFaults.Cut(3));
        var flip = FaultPlan.Up(DirectionFaults.Flip(0));
        proxy.PlanNext(cut, count: 2);
        proxy.PlanNext(flip);
        var bytes = "hello"u8.ToArray();

        var received = new List<byte[]>();
        for (int i = 0; i < 4; i++)
        {
            await using var client = await RawSockets.ConnectAsync(proxy.EndPoint, token);
            await using var server = await target.AcceptAsync(token);
            var receiving = RawSockets.ReadToEndAsync(server, token);
            await RawSockets.TrySendAsync(client, bytes, token);
            if (i == 2)
            {
                // Later connections get the default plan, which can change at any time.
                proxy.Plan = FaultPlan.Up(DirectionFaults.Cut(1));
            }

            client.Socket.Shutdown(SocketShutdown.Send);
            received.Add((await receiving).Bytes);
        }

        Assert.Equal(["hel"u8.ToArray(), "hel"u8.ToArray(), "iello"u8.ToArray(), "h"u8.ToArray()], received);
        Assert.Equal([cut, cut, flip, proxy.Plan], proxy.AcceptedConnections.Select(c => c.Plan));
        Assert.Equal(4, proxy.Connections);
        Assert.Equal(3 + 3 + 5 + 1, proxy.UpstreamBytes);
    }

    [Fact(Timeout = 30000)]
    public async Task Disposing_closes_stalled_connections_and_stops_listening()
    {
        var token = TestContext.Current.CancellationToken;
        using var target = new LoopbackTarget();
        var proxy = new FaultProxy(target.EndPoint) { Plan = FaultPlan.Both(DirectionFaults.Stall(0)) };
        var endPoint = proxy.EndPoint;
        await using var client = await RawSockets.ConnectAsync(endPoint, token);
        await using var server = await target.AcceptAsync(token);
        var connection = Assert.Single(proxy.AcceptedConnections);
        await connection.Downstream.StallStarted.WaitAsync(token);

        await proxy.DisposeAsync();

        Assert.True(connection.Closed.IsCompleted);
        AssertOrderlyEnd(Array.Empty<byte>(), await RawSockets.ReadToEndAsync(client, token));
        AssertOrderlyEnd(Array.Empty<byte>(), await RawSockets.ReadToEndAsync(server, token));
        var refused = await Assert.ThrowsAsync<SocketException>(() => RawSockets.ConnectAsync(endPoint, token));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    private static void AssertOrderlyEnd(byte[] expected, (byte[] Bytes, bool Reset) received)
    {
        Assert.False(received.Reset, "the stream ended with a reset");
        Assert.Equal(expected, received.Bytes);
    }

    private static async Task EchoAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        await stream.CopyToAsync(stream, cancellationToken);
        stream.Socket.Shutdown(SocketShutdown.Send);
    }
}
