using FileXfer.Client.Cli;
using FileXfer.Client.Sync;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Client.Tests.Trees;

/// <summary>The edges of comparing two trees as they are walked, through the real client and a real server.</summary>
public sealed class TreeWalkEdgeTests
{
    // U+FB01 is EF AC 81 in UTF-8 and FB01 in UTF-16; U+1F600 is F0 9F 98 80 and D83D DE00: they sort one way as
    // bytes and the other way as UTF-16 code units, so both sides must compare in one order.
    private const string Ligature = "\uFB01le";
    private const string Emoji = "\U0001F600";

    [Fact(Timeout = 120000)]
    public async Task Names_that_sort_differently_as_bytes_and_as_strings_round_trip_and_a_rerun_sends_nothing()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        await TestTrees.CreateAsync(source, new Dictionary<string, string>
        {
            [$"{Ligature}.txt"] = "ligature",
            [$"{Emoji}.txt"] = "emoji",
            [$"{Ligature}/{Emoji}.txt"] = "nested emoji",
            [$"{Emoji}/{Ligature}.txt"] = "nested ligature",
            ["z/a.txt"] = "plain",
        }, token);

        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", source, "b"], token));
        var rerun = await CliRunner.RunAsync(server, ["put", "-r", "--json", source, "b"], token);
        var restore = await CliRunner.RunAsync(server, ["--quiet", "get", "-r", "b", local.Combine("restored")], token);
        var verify = await CliRunner.RunAsync(server, ["verify", "-r", local.Combine("restored"), "b"], token);

        CliAssert.Success(rerun);
        Assert.Equal(0, JsonOutput.Summary(rerun).GetProperty("transferred").GetInt32());
        Assert.Equal(5, JsonOutput.Summary(rerun).GetProperty("skipped").GetInt32());
        CliAssert.Success(restore);
        CliAssert.Success(verify);
        TestTrees.AssertSame(await TestTrees.DescribeAsync(source, token), await TestTrees.DescribeAsync(local.Combine("restored"), token), "the restored tree");
    }

    [Fact(Timeout = 60000)]
    public async Task A_file_on_one_side_where_the_other_has_a_directory_fails_alone_in_both_directions()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        await TestTrees.CreateAsync(source, new Dictionary<string, string> { ["x"] = "a file here", ["ok.txt"] = "ok" }, token);
        await TestTrees.CreateAsync(server.PathOf("b"), new Dictionary<string, string> { ["x/inside.txt"] = "a directory there", ["y/z.txt"] = "z" }, token);
        var destination = local.Combine("dest");
        await TestTrees.CreateAsync(destination, new Dictionary<string, string> { ["y"] = "a file where the server has a directory" }, token);

        var put = await CliRunner.RunAsync(server, ["put", "-r", source, "b"], token);
        var get = await CliRunner.RunAsync(server, ["get", "-r", "b", destination], token);

        Assert.Equal("filexfer: b/x: 'b/x' is a directory on the server; not replaced", CliAssert.OneErrorLine(put, 7));
        Assert.Equal("ok", await File.ReadAllTextAsync(server.PathOf("b/ok.txt"), token));
        Assert.Equal("a directory there", await File.ReadAllTextAsync(server.PathOf("b/x/inside.txt"), token));
        Assert.Equal(7, get.ExitCode);
        Assert.Contains("b/y: ", get.Stderr, StringComparison.Ordinal);
        Assert.Equal("a file where the server has a directory", await File.ReadAllTextAsync(Path.Combine(destination, "y"), token));
        Assert.Equal("ok", await File.ReadAllTextAsync(Path.Combine(destination, "ok.txt"), token));
    }

    [Fact(Timeout = 60000)]
    public async Task An_entry_the_server_cannot_send_is_reported_by_ls_get_r_and_hash_r_with_exit_7_not_hidden()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(server.PathOf("b"), new Dictionary<string, string> { ["good.txt"] = "good" }, token);
        await File.WriteAllTextAsync(Path.Combine(server.PathOf("b"), "bad\nname.txt"), "a newline in its name", token);

        var ls = await CliRunner.RunAsync(server, ["ls", "b"], token);
        var get = await CliRunner.RunAsync(server, ["get", "-r", "b", local.Combine("restored")], token);
        var hash = await CliRunner.RunAsync(server, ["hash", "-r", "b"], token);

        Assert.Equal(7, ls.ExitCode);
        Assert.Equal("good.txt\n", ls.Stdout);
        Assert.Contains("bad\\nname.txt", ls.Stderr, StringComparison.Ordinal);
        Assert.Equal(7, get.ExitCode);
        Assert.Contains("bad\\nname.txt", get.Stderr, StringComparison.Ordinal);
        Assert.Equal("good", await File.ReadAllTextAsync(Path.Combine(local.Combine("restored"), "good.txt"), token));
        Assert.Equal(7, hash.ExitCode);
        Assert.Contains("bad\\nname.txt", hash.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("  good.txt\n", hash.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task A_source_file_that_vanishes_after_the_walk_saw_it_is_vanished_not_failed_and_exit_24()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        await TestTrees.CreateAsync(source, new Dictionary<string, string> { ["a.txt"] = "a", ["gone.txt"] = "deleted once queued", ["z.txt"] = "z" }, token);
        var events = new List<TreeEvent>();
        var options = new TreeTransferOptions
        {
            // Told as each file is queued for a transfer connection, before it is opened: the moment to make it vanish.
            Planned = (files, _) =>
            {
                if (files == 2)
                {
                    File.Delete(Path.Combine(source, "gone.txt"));
                }
            },
        };
        var transfer = new TreeTransfer(ct => FileXferClient.ConnectAsync(new FileXfer.Protocol.Net.HostPort("127.0.0.1", server.Port), new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256 }, ct), HashAlgorithms.Sha256, options);

        var summary = await transfer.PutTreeAsync(source, "b", item =>
        {
            lock (events)
            {
                events.Add(item);
            }

            return ValueTask.CompletedTask;
        }, progress: null, token);

        var vanished = Assert.Single(events, e => e.Status == ItemStatus.Vanished);
        Assert.Equal("b/gone.txt", vanished.RemotePath);
        Assert.Equal((2, 1, 0), (summary.Transferred, summary.Vanished, summary.Failed));
        Assert.False(File.Exists(server.PathOf("b/gone.txt")));
        Assert.Equal(ExitCode.SourceVanished, await new TransferOutput(new CliConsole(TextWriter.Null, TextWriter.Null, false, _ => null), "put", json: false, quiet: true, dryRun: false).FinishAsync(summary));
    }

    [Fact(Timeout = 60000)]
    public async Task Folders_that_appear_mid_walk_are_fetched_when_ahead_of_it_and_by_the_next_run_when_behind_it()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(server.PathOf("b"), new Dictionary<string, string> { ["a/1.txt"] = "a", ["m/2.txt"] = "m", ["z/3.txt"] = "z" }, token);
        int appeared = 0;

        // The server lists b/a, b/m and b/z in walk order; while it lists b/m, a folder appears in each of the other
        // two: b/a was listed already (behind the walk), b/z not yet (ahead of it).
        server.Store.BeforeUse = path =>
        {
            if (path == "b/m" && Interlocked.Exchange(ref appeared, 1) == 0)
            {
                Directory.CreateDirectory(server.PathOf("b/a/late"));
                File.WriteAllText(server.PathOf("b/a/late/4.txt"), "behind");
                Directory.CreateDirectory(server.PathOf("b/z/early"));
                File.WriteAllText(server.PathOf("b/z/early/5.txt"), "ahead");
            }
        };
        var destination = local.Combine("restored");

        var first = await CliRunner.RunAsync(server, ["--quiet", "get", "-r", "b", destination], token);
        var second = await CliRunner.RunAsync(server, ["get", "-r", "--json", "b", destination], token);

        CliAssert.Success(first);
        Assert.Equal(1, appeared);
        Assert.Equal("ahead", await File.ReadAllTextAsync(Path.Combine(destination, "z/early/5.txt"), token));
        CliAssert.Success(second);
        Assert.Equal(1, JsonOutput.Summary(second).GetProperty("transferred").GetInt32());
        Assert.Equal("behind", await File.ReadAllTextAsync(Path.Combine(destination, "a/late/4.txt"), token));
    }
}
