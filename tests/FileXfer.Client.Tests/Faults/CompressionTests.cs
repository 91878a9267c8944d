using System.Text;
using FileXfer.Server.Handlers;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// <c>--compress</c> over real sockets, through a proxy that counts (and can cut or corrupt) the bytes on the wire:
/// compressible files cross in fewer bytes, incompressible ones in barely more than their size, a cut compressed put
/// resumes from original bytes, a corrupted block stores nothing, and a server without the capability gets plain bodies.
/// </summary>
public class CompressionTests
{
    /// <summary>A log-like text file of <paramref name="size"/> bytes: compresses several times.</summary>
    private static async Task WriteLogAsync(string path, long size, int seed, CancellationToken cancellationToken)
    {
        var random = new Random(seed);
        await using var file = File.Create(path);
        var line = new StringBuilder();
        long written = 0;
        while (written < size)
        {
            line.Clear().Append(FormattableString.Invariant(
                $"2026-12-07T01:{random.Next(60):00}:{random.Next(60):00}.{random.Next(1000):000}Z info: request {random.Next(1_000_000)} GET /api/v{random.Next(3)}/items/{random.Next(100000)} from 10.0.{random.Next(256)}.{random.Next(256)}: {random.Next(200, 504)} in {random.Next(1000)} ms\n"));
            var bytes = Encoding.ASCII.GetBytes(line.ToString());
            int take = (int)Math.Min(bytes.Length, size - written);
            await file.WriteAsync(bytes.AsMemory(0, take), cancellationToken);
            written += take;
        }
    }

    [Fact(Timeout = 120000)]
    public async Task A_compressible_file_put_and_got_with_compress_crosses_in_under_half_its_size()
    {
        var token = TestContext.Current.CancellationToken;
        const long size = 12L * 1024 * 1024;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        using var local = new TempDirectory();
        var source = local.Combine("app.log");
        await WriteLogAsync(source, size, seed: 1, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--compress", "put", source, "app.log"], token);
        var get = await CliRunner.RunAsync(proxy.Address, ["--compress", "get", "app.log", local.Combine("back.log")], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.True(await TestFiles.ContentEqualsAsync(source, server.PathOf("app.log"), token));
        Assert.True(await TestFiles.ContentEqualsAsync(source, local.Combine("back.log"), token));
        Assert.InRange(proxy.UpstreamBytes, 1, size / 2);
        Assert.InRange(proxy.DownstreamBytes, 1, size / 2);
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 120000)]
    public async Task With_compress_and_streams_a_file_goes_in_plain_ranges_both_ways()
    {
        // A range's Put and Get carry no BodyEncoding: their bodies must go plain, or the server waits for bytes
        // that never come (the ranges once went compressed under a Put that announced a plain body, and stalled).
        var token = TestContext.Current.CancellationToken;
        const long size = 32L * 1024 * 1024;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        using var local = new TempDirectory();
        var source = local.Combine("app.log");
        await WriteLogAsync(source, size, seed: 3, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--compress", "put", "--streams", "4", source, "app.log"], token);
        var get = await CliRunner.RunAsync(proxy.Address, ["--compress", "get", "--streams", "4", "app.log", local.Combine("back.log")], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.True(await TestFiles.ContentEqualsAsync(source, server.PathOf("app.log"), token));
        Assert.True(await TestFiles.ContentEqualsAsync(source, local.Combine("back.log"), token));
        Assert.InRange(proxy.UpstreamBytes, size, size + (size / 50));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 120000)]
    public async Task Incompressible_data_with_compress_costs_barely_more_than_its_size()
    {
        var token = TestContext.Current.CancellationToken;
        const long size = (8L * 1024 * 1024) + 77;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        using var local = new TempDirectory();
        var source = local.Combine("random.bin");
        await TestFiles.WriteRandomAsync(source, size, seed: 2, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--compress", "put", source, "random.bin"], token);
        var get = await CliRunner.RunAsync(proxy.Address, ["--compress", "get", "random.bin", local.Combine("back.bin")], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.True(await TestFiles.ContentEqualsAsync(source, server.PathOf("random.bin"), token));
        Assert.True(await TestFiles.ContentEqualsAsync(source, local.Combine("back.bin"), token));
        // 8 header bytes per 512 KiB block, and the frames.
        Assert.InRange(proxy.UpstreamBytes, size, size + (size / 1000) + 4096);
        Assert.InRange(proxy.DownstreamBytes, size, size + (size / 1000) + 4096);
    }

    [Fact(Timeout = 180000)]
    public async Task A_compressed_put_cut_midway_resumes_after_the_original_bytes_the_server_holds()
    {
        var token = TestContext.Current.CancellationToken;
        const long size = 48L * 1024 * 1024;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(3_000_000)));
        using var local = new TempDirectory();
        var source = local.Combine("big.log");
        await WriteLogAsync(source, size, seed: 3, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--compress", "--retries", "3", "put", source, "big.log"], token);

        Assert.Equal(0, put.ExitCode);
        // 3 MB on the wire held about four times as many original bytes: the resume offset counts those.
        Assert.Matches(@"resumed after (1[0-9]|[5-9])\.[0-9] MiB", put.Stdout);
        Assert.Contains("retry 1 of 3", put.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, proxy.Connections);
        Assert.True(await TestFiles.ContentEqualsAsync(source, server.PathOf("big.log"), token));
        Assert.Empty(server.TempFiles());
    }

    [Theory(Timeout = 120000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_compressed_block_corrupted_in_flight_stores_nothing_under_the_name(bool put)
    {
        var token = TestContext.Current.CancellationToken;
        const long size = 12L * 1024 * 1024;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server)
        {
            Plan = put ? FaultPlan.Up(DirectionFaults.Flip(600_000, bit: 3)) : FaultPlan.Down(DirectionFaults.Flip(600_000, bit: 3)),
        };
        using var local = new TempDirectory();
        var source = local.Combine("app.log");
        await WriteLogAsync(source, size, seed: 4, token);
        if (!put)
        {
            File.Copy(source, server.PathOf("app.log"));
        }

        var run = put
            ? await CliRunner.RunAsync(proxy.Address, ["--compress", "--retries", "0", "put", source, "app.log"], token)
            : await CliRunner.RunAsync(proxy.Address, ["--compress", "--retries", "0", "get", "app.log", local.Combine("back.log")], token);

        Assert.NotEqual(0, run.ExitCode);
        // A flipped bit makes a frame zstd refuses (a protocol violation), or one that decodes to other bytes of the
        // same length (zstd blocks carry no checksum here): then the hash over the original bytes catches it.
        Assert.Matches("compressed block|not match", run.Stderr);
        if (put)
        {
            Assert.False(File.Exists(server.PathOf("app.log")));
        }
        else
        {
            Assert.Equal(["app.log"], TestFiles.ListRelative(local.Path));
        }
    }

    [Fact(Timeout = 120000)]
    public async Task A_server_without_the_capability_gets_plain_bodies_and_the_client_says_nothing_of_it()
    {
        var token = TestContext.Current.CancellationToken;
        const long size = 4L * 1024 * 1024;
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { Compression = false });
        await using var proxy = new FaultProxy(server);
        using var local = new TempDirectory();
        var source = local.Combine("app.log");
        await WriteLogAsync(source, size, seed: 5, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--compress", "put", source, "app.log"], token);
        var get = await CliRunner.RunAsync(proxy.Address, ["--compress", "get", "app.log", local.Combine("back.log")], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.Equal(string.Empty, put.Stderr);
        Assert.Equal(string.Empty, get.Stderr);
        Assert.True(await TestFiles.ContentEqualsAsync(source, local.Combine("back.log"), token));
        Assert.InRange(proxy.UpstreamBytes, size, size + 8192);
        Assert.InRange(proxy.DownstreamBytes, size, size + 8192);
    }

    [Fact(Timeout = 120000)]
    public async Task A_tree_put_and_got_with_compress_round_trips_in_fewer_bytes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        using var local = new TempDirectory();
        var tree = local.Combine("logs");
        long total = 0;
        for (int i = 0; i < 30; i++)
        {
            Directory.CreateDirectory(Path.Combine(tree, $"d{i % 3}"));
            long size = i == 0 ? 20L * 1024 * 1024 : 1000 + (i * 37_000);
            await WriteLogAsync(Path.Combine(tree, $"d{i % 3}", $"f{i}.log"), size, seed: 10 + i, token);
            total += size;
        }

        var put = await CliRunner.RunAsync(proxy.Address, ["--compress", "put", "-r", tree, "logs"], token);
        var get = await CliRunner.RunAsync(proxy.Address, ["--compress", "get", "-r", "logs", local.Combine("back")], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        foreach (var file in Directory.GetFiles(tree, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(tree, file);
            Assert.True(await TestFiles.ContentEqualsAsync(file, server.PathOf("logs/" + relative.Replace('\\', '/')), token), relative);
            Assert.True(await TestFiles.ContentEqualsAsync(file, Path.Combine(local.Combine("back"), relative), token), relative);
        }

        Assert.InRange(proxy.UpstreamBytes, 1, total / 2);
        Assert.InRange(proxy.DownstreamBytes, 1, total / 2);
    }
}
