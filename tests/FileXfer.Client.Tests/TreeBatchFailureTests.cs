namespace FileXfer.Client.Tests;

/// <summary>A tree transfer goes on past a file that cannot be stored, reports it, and exits 7.</summary>
public class TreeBatchFailureTests
{
    private static readonly Dictionary<string, string> Files = new(StringComparer.Ordinal)
    {
        ["a.txt"] = "alpha\n",
        ["dir/back\\slash.txt"] = "allowed on Linux, refused by the remote path rules",
        ["dir/b.txt"] = "bravo\n",
        ["z.txt"] = "zulu\n",
    };

    [Fact(Timeout = 60000)]
    public async Task A_file_that_cannot_be_stored_is_reported_the_others_are_sent_and_the_exit_code_is_7()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "a backslash cannot be part of a file name on Windows");
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, Files, token);

        var human = await CliRunner.RunAsync(server, ["put", "-r", local.Path, "backup"], token);

        Assert.True(human.ExitCode == 7, human.ToString());
        var error = Assert.Single(human.StderrLines);
        Assert.Equal("filexfer: backup/dir/back\\\\slash.txt: name cannot be stored remotely: backslash is not allowed in a name", error);
        CliAssert.NoStackTrace(human);
        // Files finish in any order over the default two connections.
        Assert.Equal(["sent backup/a.txt (6 B)", "sent backup/dir/b.txt (6 B)", "sent backup/z.txt (5 B)"], human.StdoutLines[..^1].Order(StringComparer.Ordinal));
        Assert.StartsWith("put: 3 transferred, 0 unchanged, 1 failed; ", human.StdoutLines[^1], StringComparison.Ordinal);
        Assert.Equal(["a.txt", "dir/b.txt", "z.txt"], TestFiles.ListRelative(server.PathOf("backup")));
    }

    [Fact(Timeout = 60000)]
    public async Task With_json_the_file_that_cannot_be_stored_is_a_failed_object_with_the_stderr_message()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "a backslash cannot be part of a file name on Windows");
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, Files, token);

        var json = await CliRunner.RunAsync(server, ["put", "-r", "--json", local.Path, "backup"], token);

        Assert.True(json.ExitCode == 7, json.ToString());
        var failed = Assert.Single(JsonOutput.Items(json), i => JsonOutput.Text(i, "status") == "failed");
        Assert.Equal("backup/dir/back\\slash.txt", JsonOutput.Text(failed, "remote"));
        Assert.Equal(TestTrees.Combine(local.Path, "dir/back\\slash.txt"), JsonOutput.Text(failed, "local"));
        Assert.Equal("name cannot be stored remotely: backslash is not allowed in a name", JsonOutput.Text(failed, "error"));
        Assert.Equal(0, failed.GetProperty("bytes").GetInt64());
        Assert.Equal(3, JsonOutput.Items(json).Count(i => JsonOutput.Text(i, "status") == "transferred"));
        var summary = JsonOutput.Summary(json);
        Assert.Equal(1, summary.GetProperty("failed").GetInt32());
        Assert.Equal(3, summary.GetProperty("transferred").GetInt32());
        Assert.Equal("filexfer: backup/dir/back\\\\slash.txt: name cannot be stored remotely: backslash is not allowed in a name", Assert.Single(json.StderrLines));
    }

    [Fact(Timeout = 60000)]
    public async Task A_directory_where_the_server_has_a_file_fails_alone_and_the_rest_goes_on()
    {
        // The walk finds a file on the server where the tree has a directory: that directory fails as one item (it is
        // not replaced, nothing below it is sent), and the files sent before and after it are stored.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var files = Enumerable.Range(0, 20).ToDictionary(i => $"a{i:D2}.txt", i => $"before {i}");
        files["dir/b.txt"] = "refused";
        files["z.txt"] = "after";
        await TestTrees.CreateAsync(local.Path, files, token);
        Directory.CreateDirectory(server.PathOf("backup"));
        await File.WriteAllTextAsync(server.PathOf("backup/dir"), "a file where the tree has a directory", token);

        var json = await CliRunner.RunAsync(server, ["put", "-r", "--json", local.Path, "backup"], token);

        Assert.True(json.ExitCode == 7, json.ToString());
        Assert.Equal(21, JsonOutput.Summary(json).GetProperty("transferred").GetInt32());
        var failed = Assert.Single(JsonOutput.Items(json), i => JsonOutput.Text(i, "status") == "failed");
        Assert.Equal("backup/dir", JsonOutput.Text(failed, "remote"));
        Assert.Contains("is not a directory on the server; not replaced", JsonOutput.Text(failed, "error"), StringComparison.Ordinal);
        foreach (var (path, content) in files.Where(f => f.Key != "dir/b.txt"))
        {
            Assert.Equal(content, await File.ReadAllTextAsync(server.PathOf("backup/" + path), token));
        }
    }
}
