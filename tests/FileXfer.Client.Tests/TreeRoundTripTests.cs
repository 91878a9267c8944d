using System.Globalization;

namespace FileXfer.Client.Tests;

/// <summary>
/// <c>put -r</c> then <c>get -r</c> of whole trees through the real command line and server: every byte, every path
/// (empty files and folders too), modification times of files and directories to 100 ns, permission bits.
/// </summary>
public class TreeRoundTripTests
{
    private const int ConnectionOpenedEvent = 2;

    [Fact(Timeout = 180000)]
    public async Task A_tree_of_400_files_round_trips_byte_exact_with_times_and_permission_bits()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        var restored = local.Combine("restored");
        await TestTrees.CreateMixedTreeAsync(source, 400, token);
        var topTime = new DateTime(2018, 5, 6, 7, 8, 9, DateTimeKind.Utc).AddTicks(1);
        Directory.SetLastWriteTimeUtc(source, topTime);
        var original = await TestTrees.DescribeAsync(source, token);
        Assert.Equal(400, original.Values.Count(e => !e.IsDirectory));
        Assert.Equal(40, original.Values.Count(e => e is { IsDirectory: false, Size: 0 }));
        Assert.Contains(TestTrees.DeepChain + "/空のフォルダ", original.Keys);

        var put = await CliRunner.RunAsync(server, ["put", "-r", source, "backup/tree"], token);

        CliAssert.Success(put);
        Assert.Equal(400, put.StdoutLines.Count(line => line.StartsWith("sent ", StringComparison.Ordinal)));
        Assert.StartsWith("put: 400 transferred, 0 unchanged, 0 failed; ", put.StdoutLines[^1], StringComparison.Ordinal);
        TestTrees.AssertSame(original, await TestTrees.DescribeAsync(server.PathOf("backup/tree"), token), "the server's copy");
        Assert.Equal(topTime, Directory.GetLastWriteTimeUtc(server.PathOf("backup/tree")));

        var get = await CliRunner.RunAsync(server, ["get", "-r", "backup/tree", restored], token);

        CliAssert.Success(get);
        Assert.Equal(400, get.StdoutLines.Count(line => line.StartsWith("received ", StringComparison.Ordinal)));
        Assert.StartsWith("get: 400 transferred, 0 unchanged, 0 failed; ", get.StdoutLines[^1], StringComparison.Ordinal);
        TestTrees.AssertSame(original, await TestTrees.DescribeAsync(restored, token), "the restored copy");
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.StagingDirectory));
    }

    [Fact(Timeout = 180000)]
    public async Task A_get_over_more_directories_than_a_batch_keeps_open_arrives_whole_and_leaves_no_temp_file()
    {
        // A batch holds at most 64 directory handles: past them its received files are committed and the handles
        // closed before the next directory is opened.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var restored = local.Combine("restored");
        for (int i = 0; i < 150; i++)
        {
            var directory = Directory.CreateDirectory(server.PathOf($"wide/d{i:000}")).FullName;
            await File.WriteAllTextAsync(Path.Combine(directory, "f.txt"), $"file {i}", token);
            await File.WriteAllTextAsync(Path.Combine(directory, "g.txt"), $"other {i}", token);
        }

        var get = await CliRunner.RunAsync(server, ["--quiet", "get", "-r", "-P", "1", "wide", restored], token);

        CliAssert.Success(get);
        for (int i = 0; i < 150; i++)
        {
            Assert.Equal($"file {i}", await File.ReadAllTextAsync(Path.Combine(restored, $"d{i:000}", "f.txt"), token));
            Assert.Equal($"other {i}", await File.ReadAllTextAsync(Path.Combine(restored, $"d{i:000}", "g.txt"), token));
            Assert.Equal(["f.txt", "g.txt"], Directory.GetFiles(Path.Combine(restored, $"d{i:000}")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
    }

    [Fact(Timeout = 180000)]
    public async Task Parallel_4_put_and_get_of_300_files_use_4_transfer_connections_besides_the_walk_and_give_identical_trees()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        var restored = local.Combine("restored");
        await TestTrees.CreateMixedTreeAsync(source, 300, token);
        var original = await TestTrees.DescribeAsync(source, token);

        int before = ConnectionsOpened(server);
        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "--parallel", "4", source, "p"], token);
        int afterPut = ConnectionsOpened(server);
        var get = await CliRunner.RunAsync(server, ["--quiet", "get", "-r", "-P", "4", "p", restored], token);
        int afterGet = ConnectionsOpened(server);

        CliAssert.Success(put);
        CliAssert.Success(get);
        // One connection walks (listings pipelined), four transfer.
        Assert.Equal(5, afterPut - before);
        Assert.Equal(5, afterGet - afterPut);
        TestTrees.AssertSame(original, await TestTrees.DescribeAsync(server.PathOf("p"), token), "the server's copy");
        TestTrees.AssertSame(original, await TestTrees.DescribeAsync(restored, token), "the restored copy");

        // And the parallel copy is complete by the other side's own check.
        var verify = await CliRunner.RunAsync(server, ["verify", "-r", restored, "p"], token);
        CliAssert.Success(verify);
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"verify: 300 identical, 0 differ, 0 missing on server, 0 only on server, 0 failed\n"), verify.Stdout);
    }

    [Fact(Timeout = 180000)]
    public async Task A_tree_opens_its_4_transfer_connections_while_the_walk_lists_and_a_dry_run_none()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        await TestTrees.CreateMixedTreeAsync(source, 40, token);
        var pair = Directory.CreateDirectory(local.Combine("pair")).FullName;
        await File.WriteAllTextAsync(Path.Combine(pair, "a.txt"), "a", token);
        await File.WriteAllTextAsync(Path.Combine(pair, "b.txt"), "b", token);

        int before = ConnectionsOpened(server);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", source, "t"], token));
        int afterPut = ConnectionsOpened(server);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "get", "-r", "t", local.Combine("restored")], token));
        int afterGet = ConnectionsOpened(server);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "-P", "2", pair, "pair"], token));
        int afterPair = ConnectionsOpened(server);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "--dry-run", source, "t"], token));
        int afterDryRun = ConnectionsOpened(server);

        // Each besides the one that walks the trees, opened as soon as it is (before anything is known to be sent).
        Assert.Equal(1 + 4, afterPut - before);
        Assert.Equal(1 + 4, afterGet - afterPut);
        Assert.Equal(1 + 2, afterPair - afterGet);
        Assert.Equal(1, afterDryRun - afterPair);
        TestTrees.AssertSame(await TestTrees.DescribeAsync(source, token), await TestTrees.DescribeAsync(local.Combine("restored"), token), "the restored copy");
    }

    private static int ConnectionsOpened(TestServer server) => server.Log.Entries.Count(e => e.EventId.Id == ConnectionOpenedEvent);
}
