using System.Text.Json;

namespace FileXfer.Client.Tests;

/// <summary>
/// <c>put -r</c> of a tree that is already on the server: the quick check (size and modification time) skips what
/// is unchanged, sends what changed, and <c>--checksum</c> catches a change the quick check cannot see.
/// </summary>
public class IncrementalPutTests
{
    private const int FileCount = 60;

    [Fact(Timeout = 120000)]
    public async Task A_rerun_on_an_unchanged_tree_transfers_nothing_and_says_so()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateMixedTreeAsync(local.Path, FileCount, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        var stored = await TestTrees.DescribeAsync(server.PathOf("backup"), token);

        var json = await CliRunner.RunAsync(server, ["put", "-r", "--json", local.Path, "backup"], token);
        var human = await CliRunner.RunAsync(server, ["put", "-r", local.Path, "backup"], token);

        CliAssert.Success(json);
        var items = JsonOutput.Items(json);
        Assert.Equal(FileCount, items.Count);
        Assert.All(items, item =>
        {
            Assert.Equal("put", JsonOutput.Text(item, "op"));
            Assert.Equal("skipped", JsonOutput.Text(item, "status"));
            Assert.Equal(JsonValueKind.Null, item.GetProperty("sha256").ValueKind);
        });
        Assert.Equal(
            Enumerable.Range(0, FileCount).Select(i => "backup/" + TestTrees.FileName(i)).Order(StringComparer.Ordinal),
            items.Select(i => JsonOutput.Text(i, "remote")).Order(StringComparer.Ordinal));
        var summary = JsonOutput.Summary(json);
        Assert.Equal(0, summary.GetProperty("transferred").GetInt32());
        Assert.Equal(FileCount, summary.GetProperty("skipped").GetInt32());
        Assert.Equal(0, summary.GetProperty("failed").GetInt32());
        Assert.Equal(0, summary.GetProperty("bytes").GetInt64());

        CliAssert.Success(human);
        var line = Assert.Single(human.StdoutLines);
        Assert.StartsWith($"put: 0 transferred, {FileCount} unchanged, 0 failed; 0 B in ", line, StringComparison.Ordinal);
        Assert.EndsWith("(nothing to transfer: everything is up to date)", line, StringComparison.Ordinal);

        // Nothing on the server was touched, not even a time.
        TestTrees.AssertSame(stored, await TestTrees.DescribeAsync(server.PathOf("backup"), token), "the server after two re-runs");
    }

    [Fact(Timeout = 120000)]
    public async Task A_file_changed_in_content_and_size_is_the_only_one_sent()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateMixedTreeAsync(local.Path, FileCount, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        var changed = TestTrees.FileName(17);
        await File.WriteAllTextAsync(TestTrees.Combine(local.Path, changed), "new contents of another size", token);

        var put = await CliRunner.RunAsync(server, ["put", "-r", "--json", local.Path, "backup"], token);

        CliAssert.Success(put);
        var sent = Assert.Single(JsonOutput.Items(put), i => JsonOutput.Text(i, "status") != "skipped");
        Assert.Equal("transferred", JsonOutput.Text(sent, "status"));
        Assert.Equal("backup/" + changed, JsonOutput.Text(sent, "remote"));
        Assert.Equal(await TestFiles.Sha256HexAsync(TestTrees.Combine(local.Path, changed), token), JsonOutput.Text(sent, "sha256"));
        var summary = JsonOutput.Summary(put);
        Assert.Equal(1, summary.GetProperty("transferred").GetInt32());
        Assert.Equal(FileCount - 1, summary.GetProperty("skipped").GetInt32());
        Assert.Equal("new contents of another size", await File.ReadAllTextAsync(server.PathOf("backup/" + changed), token));
    }

    [Fact(Timeout = 120000)]
    public async Task A_same_size_change_with_the_old_time_is_skipped_by_the_quick_check_and_sent_by_checksum()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateMixedTreeAsync(local.Path, FileCount, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        var changed = TestTrees.FileName(23);
        var changedPath = TestTrees.Combine(local.Path, changed);
        Assert.True(new FileInfo(changedPath).Length > 100);
        TestTrees.CorruptOneByte(changedPath, 100);

        var quick = await CliRunner.RunAsync(server, ["put", "-r", "--json", local.Path, "backup"], token);
        var checksum = await CliRunner.RunAsync(server, ["put", "-r", "--checksum", "--json", local.Path, "backup"], token);
        var again = await CliRunner.RunAsync(server, ["put", "-r", "-c", "--json", local.Path, "backup"], token);

        CliAssert.Success(quick);
        Assert.All(JsonOutput.Items(quick), i => Assert.Equal("skipped", JsonOutput.Text(i, "status")));
        Assert.Equal(0, JsonOutput.Summary(quick).GetProperty("transferred").GetInt32());

        CliAssert.Success(checksum);
        var sent = Assert.Single(JsonOutput.Items(checksum), i => JsonOutput.Text(i, "status") != "skipped");
        Assert.Equal("transferred", JsonOutput.Text(sent, "status"));
        Assert.Equal("backup/" + changed, JsonOutput.Text(sent, "remote"));
        Assert.Equal(FileCount - 1, JsonOutput.Summary(checksum).GetProperty("skipped").GetInt32());
        Assert.True(await TestFiles.ContentEqualsAsync(changedPath, server.PathOf("backup/" + changed), token));

        CliAssert.Success(again);
        Assert.Equal(0, JsonOutput.Summary(again).GetProperty("transferred").GetInt32());
    }
}
