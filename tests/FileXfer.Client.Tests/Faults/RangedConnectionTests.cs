using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;
using FileXfer.Server.Hosting;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// The connections of one file in ranges (<see cref="ParallelTransfer"/>): on a long link the other connections open as
/// soon as the first one's TCP connection measured it, before the first one is authenticated; one a busy server refuses
/// leaves its ranges to the others; a ranged get takes a range corrupted in flight again within the same attempt.
/// </summary>
public class RangedConnectionTests
{
    private const long Size = 32L * 1024 * 1024;

    [Theory(Timeout = 120000)]
    [InlineData(4, 4)]
    [InlineData(null, ParallelTransfer.DefaultFarLinkStreams)] // the default for an 80 ms link
    public async Task On_a_long_link_the_other_connections_open_and_authenticate_before_the_first_one_and_the_file_arrives_whole(int? streams, int connections)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 91, token);
        var options = new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256, Credential = new FileXferCredential("writer", AuthTestServer.WriterSecret) };
        var address = new HostPort("127.0.0.1", server.Port);

        // The first connection's TCP connection "measures" 80 ms, then its handshake waits at a gate: the others, opened
        // on that measure, must get through their own handshakes (by the challenge: no ticket exists yet) meanwhile.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int calls = 0;
        async Task<FileXferClient> ConnectAsync(CancellationToken ct)
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                options.Run.LinkMeasured(TimeSpan.FromMilliseconds(80));
                await gate.Task.WaitAsync(ct);
            }

            return await FileXferClient.ConnectAsync(address, options, ct);
        }

        var put = ParallelTransfer.UploadFileAsync(ConnectAsync, options.Run, source, "big.bin", streams, progress: null, token);
        await server.Log.WaitForEventAsync(ServerEvents.AuthenticationSucceeded, connections - 1, TimeSpan.FromSeconds(30), token);
        Assert.False(put.IsCompleted);
        gate.SetResult();
        var result = await put;

        Assert.Equal(Size, result.Size);
        Assert.Equal(await TestFiles.Sha256HexAsync(source, token), await TestFiles.Sha256HexAsync(server.PathOf("big.bin"), token));
        // That many connections in all, the first the last to authenticate (by the challenge, or in its Hello over the
        // ticket one of the others got, whichever the client had read by then), and none left open. (Without --streams
        // the file itself then goes as the first connection's own round trip says: over one, on loopback.)
        Assert.Equal(connections, server.Log.WithEvent(ServerEvents.AuthenticationSucceeded).Count + server.Log.WithEvent(ServerEvents.TicketAccepted).Count);
        await server.WaitForClosedConnectionsAsync(connections, token);
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 60000)]
    public async Task A_file_below_the_minimum_opens_no_other_connection_even_on_a_long_link()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("small.bin");
        await TestFiles.WriteRandomAsync(source, ParallelTransfer.MinimumSize - 1, seed: 96, token);
        var options = new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256 };
        int calls = 0;
        Task<FileXferClient> ConnectAsync(CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            options.Run.LinkMeasured(TimeSpan.FromMilliseconds(80));
            return FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), options, ct);
        }

        var result = await ParallelTransfer.UploadFileAsync(ConnectAsync, options.Run, source, "small.bin", streams: 4, progress: null, token);

        Assert.Equal(ParallelTransfer.MinimumSize - 1, result.Size);
        Assert.Equal(1, calls);
        Assert.Equal(await TestFiles.Sha256HexAsync(source, token), await TestFiles.Sha256HexAsync(server.PathOf("small.bin"), token));
    }

    [Fact(Timeout = 60000)]
    public async Task Connections_opened_early_for_a_server_without_ranges_are_closed_and_the_file_goes_over_one()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, handlerOptions: new FileXfer.Server.Handlers.FileXferHandlerOptions { ParallelStreams = false });
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 97, token);
        var options = new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256 };
        int calls = 0;
        Task<FileXferClient> ConnectAsync(CancellationToken ct)
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                options.Run.LinkMeasured(TimeSpan.FromMilliseconds(80));
            }

            return FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), options, ct);
        }

        var result = await ParallelTransfer.UploadFileAsync(ConnectAsync, options.Run, source, "big.bin", streams: null, progress: null, token);

        // Opened on the link's measure (80 ms: the default's streams for it) before the Welcome said the server takes no
        // ranges, then given up.
        Assert.Equal(ParallelTransfer.DefaultFarLinkStreams, calls);
        Assert.Equal(Size, result.Size);
        Assert.Equal(await TestFiles.Sha256HexAsync(source, token), await TestFiles.Sha256HexAsync(server.PathOf("big.bin"), token));
        // Whatever of them the server saw is closed.
        await server.WaitForClosedConnectionsAsync(server.Log.WithEvent(ServerEvents.ConnectionOpened).Count, token);
    }

    [Fact(Timeout = 120000)]
    public async Task An_extra_connection_refused_by_a_busy_server_leaves_its_ranges_to_the_others()
    {
        // The server admits one connection from this address: the first, which is past its handshake when the others
        // come (early opening is for a first attempt on a long link), so each of them is refused as busy.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { MaxConnectionsPerAddress = 1, ShutdownTimeout = TimeSpan.FromSeconds(5) });
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 92, token);
        var options = new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256 };

        var result = await ParallelTransfer.UploadFileAsync(ct => FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), options, ct), early: null, source, "big.bin", streams: 4, progress: null, token);

        Assert.Equal(Size, result.Size);
        Assert.Equal(await TestFiles.Sha256HexAsync(source, token), await TestFiles.Sha256HexAsync(server.PathOf("big.bin"), token));
        // Only the first was served; the refusals are logged at most once a while, so at least one line says so.
        Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionOpened));
        Assert.NotEmpty(server.Log.WithEvent(ServerEvents.ConnectionRefused));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 120000)]
    public async Task A_get_whose_range_is_corrupted_in_flight_fetches_it_again_in_the_same_attempt_and_checks_the_whole_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        await TestFiles.WriteRandomAsync(server.PathOf("big.bin"), Size, seed: 93, token);

        // The first connection takes the first range (4 MiB) first: one bit of its body is flipped on the way.
        proxy.PlanNext(FaultPlan.Down(DirectionFaults.Flip(2_000_000)));
        using var local = new TempDirectory();
        var destination = local.Combine("big.bin");

        var get = await CliRunner.RunAsync(proxy.Address, ["--retries", "0", "get", "--streams", "4", "big.bin", destination], token);

        Assert.True(get.ExitCode == 0, $"exit {get.ExitCode}: {get.Stderr}");
        Assert.Equal(await TestFiles.Sha256HexAsync(server.PathOf("big.bin"), token), await TestFiles.Sha256HexAsync(destination, token));
        // The first range came twice; nothing else did.
        Assert.InRange(proxy.DownstreamBytes, Size + (4L * 1024 * 1024), Size + (4L * 1024 * 1024) + (Size / 100));
        Assert.Equal(["big.bin"], TestFiles.ListRelative(local.Path));
    }
}
