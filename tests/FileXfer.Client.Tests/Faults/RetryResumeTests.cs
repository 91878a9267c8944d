namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// Transfers through a faulty network that complete through retries: each attempt reconnects and resumes from
/// what the other side proves it holds, so the bytes on the wire stay near the file size.
/// </summary>
public class RetryResumeTests
{
    private const long Size = 128L * 1024 * 1024;
    private const long CutAt = 64L * 1024 * 1024;

    [Fact(Timeout = 180000)]
    public async Task A_put_cut_midway_completes_through_a_retry_that_resumes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(CutAt)));
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 41, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "3", "put", source, "big.bin"], token);

        Assert.Equal(0, put.ExitCode);
        Assert.Contains("resumed after", put.Stdout, StringComparison.Ordinal);
        Assert.Contains("retry 1 of 3", put.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, proxy.Connections);
        Assert.Equal(await TestFiles.Sha256HexAsync(source, token), await TestFiles.Sha256HexAsync(server.PathOf("big.bin"), token));
        Assert.InRange(proxy.UpstreamBytes, Size, Size + (Size / 10));
        Assert.Empty(Directory.GetFiles(server.StagingDirectory));
    }

    [Fact(Timeout = 180000)]
    public async Task A_get_cut_midway_completes_through_a_retry_that_resumes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Down(DirectionFaults.Cut(CutAt, reset: true)));
        await TestFiles.WriteRandomAsync(server.PathOf("big.bin"), Size, seed: 42, token);
        using var local = new TempDirectory();
        var destination = local.Combine("big.bin");

        var get = await CliRunner.RunAsync(proxy.Address, ["--retries", "3", "get", "big.bin", destination], token);

        Assert.Equal(0, get.ExitCode);
        Assert.Contains("resumed after", get.Stdout, StringComparison.Ordinal);
        Assert.Equal(await TestFiles.Sha256HexAsync(server.PathOf("big.bin"), token), await TestFiles.Sha256HexAsync(destination, token));
        Assert.InRange(proxy.DownstreamBytes, Size - CutAt, Size + (Size / 10));
        Assert.Equal(["big.bin"], TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 120000)]
    public async Task A_bit_flipped_once_in_a_put_is_caught_discarded_and_the_retry_stores_the_right_bytes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Flip(2_000_000)));
        using var local = new TempDirectory();
        var source = local.Combine("data.bin");
        await TestFiles.WriteRandomAsync(source, 8 * 1024 * 1024, seed: 43, token);
        await File.WriteAllTextAsync(server.PathOf("data.bin"), "old content", token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "2", "put", source, "data.bin"], token);

        Assert.Equal(0, put.ExitCode);
        Assert.Contains("does not match", put.Stderr, StringComparison.Ordinal);
        Assert.Equal(await TestFiles.Sha256HexAsync(source, token), await TestFiles.Sha256HexAsync(server.PathOf("data.bin"), token));
        Assert.Empty(Directory.GetFiles(server.StagingDirectory));
    }

    [Fact(Timeout = 120000)]
    public async Task Corruption_on_every_attempt_never_reaches_the_real_name_and_ends_with_exit_4()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server) { Plan = FaultPlan.Both(DirectionFaults.Flip(1_000_000)) };
        using var local = new TempDirectory();
        var source = local.Combine("data.bin");
        await TestFiles.WriteRandomAsync(source, 4 * 1024 * 1024, seed: 44, token);
        await File.WriteAllTextAsync(server.PathOf("data.bin"), "old content", token);
        await TestFiles.WriteRandomAsync(server.PathOf("other.bin"), 4 * 1024 * 1024, seed: 45, token);
        var destination = local.Combine("other.bin");
        await File.WriteAllTextAsync(destination, "old local content", token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "2", "put", source, "data.bin"], token);
        var get = await CliRunner.RunAsync(proxy.Address, ["--retries", "2", "get", "other.bin", destination], token);

        Assert.Equal(4, put.ExitCode);
        Assert.Equal(4, get.ExitCode);
        Assert.Equal("old content", await File.ReadAllTextAsync(server.PathOf("data.bin"), token));
        Assert.Equal("old local content", await File.ReadAllTextAsync(destination, token));
        Assert.Empty(Directory.GetFiles(server.StagingDirectory));
        Assert.Equal(["data.bin", "other.bin"], TestFiles.ListRelative(local.Path));
        Assert.Equal(6, proxy.Connections);
    }

    [Fact(Timeout = 120000)]
    public async Task A_connection_that_stalls_mid_transfer_times_out_and_the_retry_completes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Stall(3 * 1024 * 1024)));
        using var local = new TempDirectory();
        var source = local.Combine("data.bin");
        await TestFiles.WriteRandomAsync(source, 8 * 1024 * 1024, seed: 46, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "2", "--timeout", "3", "put", source, "data.bin"], token);

        Assert.Equal(0, put.ExitCode);
        Assert.Contains("stalled", put.Stderr, StringComparison.Ordinal);
        Assert.Equal(await TestFiles.Sha256HexAsync(source, token), await TestFiles.Sha256HexAsync(server.PathOf("data.bin"), token));
    }

    [Fact(Timeout = 120000)]
    public async Task A_tree_put_cut_midway_completes_through_a_retry_and_reports_each_file_once()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        // One connection walks the trees, the other, the one transfer connection (-P 1), is cut. They open at once, in
        // either order: both are planned to be cut after 2 MiB, which only the transfer connection carries.
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(2 * 1024 * 1024)));
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(2 * 1024 * 1024)));
        using var local = new TempDirectory();
        var tree = Directory.CreateDirectory(local.Combine("tree")).FullName;
        for (int i = 0; i < 300; i++)
        {
            await TestFiles.WriteRandomAsync(Path.Combine(tree, $"f{i:D3}.bin"), 16 * 1024, seed: 100 + i, token);
        }

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "3", "put", "-r", "-P", "1", "--json", tree, "backup"], token);

        Assert.Equal(0, put.ExitCode);
        Assert.Contains("retry 1 of 3", put.Stderr, StringComparison.Ordinal);
        var lines = put.StdoutLines;
        var files = lines.Where(l => !l.Contains("\"op\":\"summary\"", StringComparison.Ordinal)).ToList();
        // Each file is reported once: transferred, or skipped when the cut attempt stored it but its answer was lost.
        Assert.Equal(300, files.Count);
        Assert.Equal(300, files.Select(l => l[l.IndexOf("\"remote\"", StringComparison.Ordinal)..]).Distinct().Count());
        using var summary = System.Text.Json.JsonDocument.Parse(lines[^1]);
        var counts = summary.RootElement;
        Assert.Equal(300, counts.GetProperty("transferred").GetInt32() + counts.GetProperty("skipped").GetInt32());
        Assert.Equal(0, counts.GetProperty("failed").GetInt32());
        for (int i = 0; i < 300; i++)
        {
            Assert.True(await TestFiles.ContentEqualsAsync(Path.Combine(tree, $"f{i:D3}.bin"), server.PathOf($"backup/f{i:D3}.bin"), token));
        }
    }
}
