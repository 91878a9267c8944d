using System.Text.Json;

namespace FileXfer.Client.Tests;

/// <summary>
/// <c>verify -r LOCAL REMOTE</c>: both sides hash their own copies, so bit rot that kept size and modification time
/// is found, and so are files missing on the server and files only the server has.
/// </summary>
public class VerifyTreeTests
{
    private static readonly Dictionary<string, string> Files = new(StringComparer.Ordinal)
    {
        ["a.txt"] = "alpha alpha alpha\n",
        ["dir/b.txt"] = "bravo bravo bravo\n",
        ["dir/深 い/c 🙂.txt"] = "charlie charlie\n",
        ["dir/empty.bin"] = string.Empty,
        ["z.txt"] = "zulu\n",
    };

    [Fact(Timeout = 60000)]
    public async Task Identical_trees_exit_0()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = await BackedUpTreeAsync(server, token);

        var human = await CliRunner.RunAsync(server, ["verify", "-r", local.Path, "backup"], token);
        var json = await CliRunner.RunAsync(server, ["verify", "-r", "--json", local.Path, "backup"], token);

        CliAssert.Success(human);
        Assert.Equal("verify: 5 identical, 0 differ, 0 missing on server, 0 only on server, 0 failed\n", human.Stdout);
        CliAssert.Success(json);
        Assert.All(JsonOutput.Items(json), i => Assert.Equal("identical", JsonOutput.Text(i, "status")));
        Assert.Equal(5, JsonOutput.Summary(json).GetProperty("identical").GetInt32());
    }

    [Fact(Timeout = 60000)]
    public async Task One_corrupted_byte_with_size_and_time_kept_exits_4_and_names_the_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = await BackedUpTreeAsync(server, token);
        var stored = server.PathOf("backup/dir/深 い/c 🙂.txt");
        var before = File.GetLastWriteTimeUtc(stored);
        TestTrees.CorruptOneByte(stored, 3);
        Assert.Equal(before, File.GetLastWriteTimeUtc(stored));
        Assert.Equal(Files["dir/深 い/c 🙂.txt"].Length, new FileInfo(stored).Length);

        // The quick check cannot see it: a re-run of put skips it.
        var put = await CliRunner.RunAsync(server, ["put", "-r", "--json", local.Path, "backup"], token);
        var human = await CliRunner.RunAsync(server, ["verify", "-r", local.Path, "backup"], token);
        var json = await CliRunner.RunAsync(server, ["verify", "-r", "--json", local.Path, "backup"], token);

        Assert.Equal(0, JsonOutput.Summary(put).GetProperty("transferred").GetInt32());
        Assert.True(human.ExitCode == 4, human.ToString());
        Assert.Equal(
            ["differs: backup/dir/深 い/c 🙂.txt", "verify: 4 identical, 1 differ, 0 missing on server, 0 only on server, 0 failed"],
            human.StdoutLines);
        Assert.Empty(human.Stderr);

        Assert.True(json.ExitCode == 4, json.ToString());
        var differs = Assert.Single(JsonOutput.Items(json), i => JsonOutput.Text(i, "status") != "identical");
        Assert.Equal("differs", JsonOutput.Text(differs, "status"));
        Assert.Equal("backup/dir/深 い/c 🙂.txt", JsonOutput.Text(differs, "remote"));
        Assert.Equal(await TestFiles.Sha256HexAsync(TestTrees.Combine(local.Path, "dir/深 い/c 🙂.txt"), token), JsonOutput.Text(differs, "sha256"));
        Assert.Equal(await TestFiles.Sha256HexAsync(stored, token), JsonOutput.Text(differs, "remote_sha256"));
        var summary = JsonOutput.Summary(json);
        Assert.Equal(1, summary.GetProperty("differs").GetInt32());
        Assert.Equal(4, summary.GetProperty("identical").GetInt32());
        Assert.Equal(0, summary.GetProperty("missing_on_server").GetInt32());
        Assert.Equal(0, summary.GetProperty("only_on_server").GetInt32());
    }

    [Fact(Timeout = 60000)]
    public async Task A_file_removed_on_the_server_is_missing_on_server()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = await BackedUpTreeAsync(server, token);
        File.Delete(server.PathOf("backup/dir/b.txt"));

        var human = await CliRunner.RunAsync(server, ["verify", "-r", local.Path, "backup"], token);
        var json = await CliRunner.RunAsync(server, ["verify", "-r", "--json", local.Path, "backup"], token);

        Assert.True(human.ExitCode == 4, human.ToString());
        Assert.Equal("missing on server: backup/dir/b.txt", human.StdoutLines[0]);
        Assert.Equal(2, human.StdoutLines.Length);
        var missing = Assert.Single(JsonOutput.Items(json), i => JsonOutput.Text(i, "status") != "identical");
        Assert.Equal("missing_on_server", JsonOutput.Text(missing, "status"));
        Assert.Equal("backup/dir/b.txt", JsonOutput.Text(missing, "remote"));
        Assert.Equal(TestTrees.Combine(local.Path, "dir/b.txt"), JsonOutput.Text(missing, "local"));
        Assert.Equal(1, JsonOutput.Summary(json).GetProperty("missing_on_server").GetInt32());
        Assert.Equal(4, json.ExitCode);
    }

    [Fact(Timeout = 60000)]
    public async Task An_extra_file_on_the_server_is_only_on_server()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = await BackedUpTreeAsync(server, token);
        await File.WriteAllTextAsync(server.PathOf("backup/dir/extra.txt"), "planted", token);

        var human = await CliRunner.RunAsync(server, ["verify", "-r", local.Path, "backup"], token);
        var json = await CliRunner.RunAsync(server, ["verify", "-r", "--json", local.Path, "backup"], token);

        Assert.True(human.ExitCode == 4, human.ToString());
        Assert.Equal("only on server: backup/dir/extra.txt", human.StdoutLines[0]);
        var extra = Assert.Single(JsonOutput.Items(json), i => JsonOutput.Text(i, "status") != "identical");
        Assert.Equal("only_on_server", JsonOutput.Text(extra, "status"));
        Assert.Equal(JsonValueKind.Null, extra.GetProperty("local").ValueKind);
        Assert.Equal(1, JsonOutput.Summary(json).GetProperty("only_on_server").GetInt32());
        Assert.Equal(4, json.ExitCode);
    }

    [Fact(Timeout = 60000)]
    public async Task Files_of_a_directory_left_out_by_exclude_are_not_reported_only_on_server()
    {
        // The server still holds cache/ from a backup made before cache/ was excluded; with the same exclude,
        // verify must leave it out as put does, just as it leaves out excluded files.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = await BackedUpTreeAsync(server, token);
        await TestTrees.CreateAsync(local.Path, new Dictionary<string, string> { ["cache/c.tmp"] = "c", ["dir/cache/d.tmp"] = "d", ["x.log"] = "x" }, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        foreach (var path in new[] { "cache", "dir/cache" })
        {
            Directory.Delete(TestTrees.Combine(local.Path, path), recursive: true);
        }

        File.Delete(TestTrees.Combine(local.Path, "x.log"));

        var verify = await CliRunner.RunAsync(server, ["verify", "-r", "--exclude", "cache/", "--exclude", "*.log", local.Path, "backup"], token);

        CliAssert.Success(verify);
        Assert.Equal("verify: 5 identical, 0 differ, 0 missing on server, 0 only on server, 0 failed\n", verify.Stdout);
    }

    /// <summary>A local tree of <see cref="Files"/>, put to <c>backup</c> on the server.</summary>
    private static async Task<TempDirectory> BackedUpTreeAsync(TestServer server, CancellationToken cancellationToken)
    {
        var local = new TempDirectory();
        try
        {
            await TestTrees.CreateAsync(local.Path, Files, cancellationToken);
            CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], cancellationToken));
            return local;
        }
        catch
        {
            local.Dispose();
            throw;
        }
    }
}
