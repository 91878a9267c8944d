using FileXfer.Client.Tests.Faults;

namespace FileXfer.Client.Tests.Trees;

/// <summary>A tree transfer cut midway resumes where it stopped instead of walking the whole tree again.</summary>
public sealed class TreeRetryTests
{
    private const int RequestCompletedEvent = 6;

    [Fact(Timeout = 180000)]
    public async Task A_tree_put_cut_midway_is_retried_without_listing_the_finished_directories_again()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        // The listing connection and the one transfer connection (-P 1) open at once, in either order: both are planned
        // to be cut once their client has read 4,000 bytes, which only the transfer connection carries (about thirty
        // answers, each Ok under 150 bytes: the first directories are finished). The listing connection's answers stay
        // under it: the listings (about 2.5 KB) and no directory times at the end (DirectoryTimes: the puts carry them).
        proxy.PlanNext(FaultPlan.Down(DirectionFaults.Cut(4000)), count: 2);
        using var local = new TempDirectory();
        var tree = Directory.CreateDirectory(local.Combine("tree")).FullName;
        const int Directories = 30;
        for (int d = 0; d < Directories; d++)
        {
            // The server has every directory already (empty), so each attempt lists what it walks.
            Directory.CreateDirectory(server.PathOf($"backup/d{d:D2}"));
            Directory.CreateDirectory(Path.Combine(tree, $"d{d:D2}"));
            for (int i = 0; i < 10; i++)
            {
                await TestFiles.WriteRandomAsync(Path.Combine(tree, $"d{d:D2}", $"f{i}.bin"), 64 * 1024, seed: d * 100 + i, token);
            }
        }

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "3", "put", "-r", "-P", "1", "--json", tree, "backup"], token);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.Contains("retry 1 of 3", put.Stderr, StringComparison.Ordinal);
        var summary = JsonOutput.Summary(put);
        var repeated = JsonOutput.Items(put).GroupBy(i => JsonOutput.Text(i, "remote")).Where(g => g.Count() > 1).Select(g => g.Key + ":" + string.Join(",", g.Select(i => JsonOutput.Text(i, "status")))).ToList();
        Assert.True(repeated.Count == 0, string.Join("\n", repeated) + "\n" + summary);
        Assert.Equal(Directories * 10, summary.GetProperty("transferred").GetInt32() + summary.GetProperty("skipped").GetInt32());
        for (int d = 0; d < Directories; d++)
        {
            for (int i = 0; i < 10; i++)
            {
                var name = $"d{d:D2}/f{i}.bin";
                Assert.True(await TestFiles.ContentEqualsAsync(Path.Combine(tree, name), server.PathOf("backup/" + name), token), name);
            }
        }

        // Listings per connection, in the order the connections were opened: the retry's walk lists only what the
        // cut attempt had not finished, so fewer directories than the whole tree (top included).
        var listsByConnection = server.Log.Entries
            .Where(e => e.EventId.Id == RequestCompletedEvent && e.Message.Contains(" List ", StringComparison.Ordinal))
            .GroupBy(e => e.Message[(e.Message.IndexOf(' ', StringComparison.Ordinal) + 1)..e.Message.IndexOf('/', StringComparison.Ordinal)])
            .Select(g => g.Count())
            .ToList();
        Assert.Equal(2, listsByConnection.Count);
        Assert.Equal(Directories + 1, listsByConnection[0]);
        Assert.InRange(listsByConnection[1], 1, Directories);
    }

    [Fact(Timeout = 180000)]
    public async Task A_large_file_inside_a_tree_resumes_at_byte_level_after_a_cut()
    {
        // 24 MiB is over TreeTransfer.ResumableSize: it goes alone and resumably, as a single put does. The
        // transfer connection is cut after 12 MiB; the retry sends only what the server does not hold.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        // The listing connection and the one transfer connection (-P 1) open at once, in either order: both are planned
        // to be cut after 12 MiB, which only the transfer connection carries.
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(12 * 1024 * 1024)));
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(12 * 1024 * 1024)));
        using var local = new TempDirectory();
        var tree = Directory.CreateDirectory(local.Combine("tree")).FullName;
        const long Size = 24L * 1024 * 1024;
        await TestFiles.WriteRandomAsync(Path.Combine(tree, "big.bin"), Size, seed: 7, token);
        await File.WriteAllTextAsync(Path.Combine(tree, "small.txt"), "small", token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "3", "put", "-r", "-P", "1", "--json", tree, "backup"], token);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.Contains("retry 1 of 3", put.Stderr, StringComparison.Ordinal);
        Assert.True(await TestFiles.ContentEqualsAsync(Path.Combine(tree, "big.bin"), server.PathOf("backup/big.bin"), token));
        Assert.Equal("small", await File.ReadAllTextAsync(server.PathOf("backup/small.txt"), token));

        // Sent from the start again, the file alone would take 12 + 24 MiB through the proxy.
        Assert.True(proxy.UpstreamBytes < Size + 6 * 1024 * 1024, $"{proxy.UpstreamBytes} bytes went up");
    }
}
