using FileXfer.Server.Handlers;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// <c>--streams N</c> over real sockets: one file as ranges over N connections (through a proxy that counts, cuts or
/// corrupts them), each range resumed on its own, the whole file checked before it gets its name, and one stream
/// when the server does not announce ParallelStreams.
/// </summary>
public class ParallelStreamsTests
{
    private const long Size = 32L * 1024 * 1024;

    [Fact(Timeout = 120000)]
    public async Task A_put_in_four_streams_goes_over_four_connections_and_stores_the_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 71, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["put", "--streams", "4", source, "big.bin"], token);

        Assert.Equal(0, put.ExitCode);
        Assert.Equal(4, proxy.Connections);
        Assert.Equal(await TestFiles.Sha256HexAsync(source, token), await TestFiles.Sha256HexAsync(server.PathOf("big.bin"), token));
        Assert.InRange(proxy.UpstreamBytes, Size, Size + (Size / 100));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 180000)]
    public async Task Ranges_cut_midway_resume_each_from_what_the_server_holds_of_them()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);

        // The first two connections (ranges 0 and 1) are cut 4 MiB into their bodies; the failure stops the others.
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(4L * 1024 * 1024)), count: 2);
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 72, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "3", "put", "--streams", "4", source, "big.bin"], token);

        Assert.Equal(0, put.ExitCode);
        Assert.Contains("resumed after", put.Stdout, StringComparison.Ordinal);
        Assert.Contains("retry 1 of 3", put.Stderr, StringComparison.Ordinal);
        Assert.Equal(await TestFiles.Sha256HexAsync(source, token), await TestFiles.Sha256HexAsync(server.PathOf("big.bin"), token));

        // What the cut ranges had delivered was not sent again: far less than the file a second time.
        Assert.InRange(proxy.UpstreamBytes, Size, Size + (Size / 2));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 120000)]
    public async Task A_range_corrupted_in_flight_never_reaches_the_real_name()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server) { Plan = FaultPlan.Up(DirectionFaults.Flip(2_000_000)) };
        using var local = new TempDirectory();
        var source = local.Combine("data.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 73, token);
        await File.WriteAllTextAsync(server.PathOf("data.bin"), "old content", token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "0", "put", "--streams", "4", source, "data.bin"], token);

        Assert.Equal(4, put.ExitCode);
        Assert.Contains("does not match", put.Stderr, StringComparison.Ordinal);
        Assert.Equal("old content", await File.ReadAllTextAsync(server.PathOf("data.bin"), token));
    }

    [Fact(Timeout = 120000)]
    public async Task A_range_corrupted_once_is_sent_again_and_the_file_stored_right()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Flip(2_000_000)));
        using var local = new TempDirectory();
        var source = local.Combine("data.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 74, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "2", "put", "--streams", "4", source, "data.bin"], token);

        Assert.Equal(0, put.ExitCode);
        Assert.Contains("does not match", put.Stderr, StringComparison.Ordinal);
        Assert.Equal(await TestFiles.Sha256HexAsync(source, token), await TestFiles.Sha256HexAsync(server.PathOf("data.bin"), token));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 120000)]
    public async Task A_server_without_the_capability_gets_one_stream()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { ParallelStreams = false });
        await using var proxy = new FaultProxy(server);
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 75, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["put", "--streams", "4", source, "big.bin"], token);
        var get = await CliRunner.RunAsync(proxy.Address, ["get", "--streams", "4", "big.bin", local.Combine("back.bin")], token);

        Assert.Equal(0, put.ExitCode);
        Assert.Equal(0, get.ExitCode);
        Assert.Equal(2, proxy.Connections);
        Assert.Equal(await TestFiles.Sha256HexAsync(source, token), await TestFiles.Sha256HexAsync(local.Combine("back.bin"), token));
    }

    [Fact(Timeout = 120000)]
    public async Task A_get_in_four_streams_writes_the_ranges_in_place_and_checks_the_whole_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        await TestFiles.WriteRandomAsync(server.PathOf("big.bin"), Size, seed: 76, token);
        using var local = new TempDirectory();
        var destination = local.Combine("big.bin");

        var get = await CliRunner.RunAsync(proxy.Address, ["get", "--streams", "4", "big.bin", destination], token);

        Assert.Equal(0, get.ExitCode);
        Assert.Equal(await TestFiles.Sha256HexAsync(server.PathOf("big.bin"), token), await TestFiles.Sha256HexAsync(destination, token));

        // Four ranges and one more for the server's whole-file hash.
        Assert.Equal(5, proxy.Connections);
        Assert.InRange(proxy.DownstreamBytes, Size, Size + (Size / 100));
        Assert.Equal(["big.bin"], TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 180000)]
    public async Task A_get_whose_ranges_are_cut_resumes_each_range()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        await TestFiles.WriteRandomAsync(server.PathOf("big.bin"), Size, seed: 77, token);

        // The connections of ranges 0 and 1 break 4 MiB into their bodies.
        proxy.PlanNext(FaultPlan.Down(DirectionFaults.Cut(4L * 1024 * 1024, reset: true)), count: 2);
        using var local = new TempDirectory();
        var destination = local.Combine("big.bin");

        var get = await CliRunner.RunAsync(proxy.Address, ["--retries", "3", "get", "--streams", "4", "big.bin", destination], token);

        Assert.Equal(0, get.ExitCode);
        Assert.Contains("resumed after", get.Stdout, StringComparison.Ordinal);
        Assert.Equal(await TestFiles.Sha256HexAsync(server.PathOf("big.bin"), token), await TestFiles.Sha256HexAsync(destination, token));

        // The first failure stops the other ranges' connections too, and what was in flight on them (loopback socket
        // buffers, several MiB each) passed the proxy without being kept: 1.5x the file was once exceeded by that
        // alone (53.4 MB of 32 MiB in CI). Far less than the file twice over all the same.
        Assert.InRange(proxy.DownstreamBytes, Size, Size + (Size * 3 / 4));
        Assert.Equal(["big.bin"], TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task Streams_with_r_is_refused_before_connecting()
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();

        var put = await CliRunner.RunAsync("127.0.0.1:9", ["put", "-r", "--streams", "4", local.Path, "dir"], token);

        Assert.Equal(2, put.ExitCode);
        Assert.Contains("--streams applies to a single file", put.Stderr, StringComparison.Ordinal);
    }
}
