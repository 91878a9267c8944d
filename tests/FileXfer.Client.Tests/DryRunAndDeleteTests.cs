using System.Runtime.Versioning;
using System.Text.Json;

namespace FileXfer.Client.Tests;

/// <summary>
/// <c>--dry-run</c> changes nothing and says what it would do; <c>--delete</c> removes what the source no longer has,
/// and its guards (empty source, <c>--max-delete</c>, excluded and unreadable paths) keep it from removing more.
/// </summary>
public class DryRunAndDeleteTests
{
    private static readonly Dictionary<string, string> Files = new(StringComparer.Ordinal)
    {
        ["a.txt"] = "alpha\n",
        ["dir/b.txt"] = "bravo\n",
        ["dir/sub/c.txt"] = "charlie\n",
        ["Папка/d.txt"] = "delta\n",
        ["void/"] = string.Empty,
    };

    [Fact(Timeout = 60000)]
    public async Task Dry_run_put_sends_nothing_and_reports_what_it_would_send()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, Files, token);

        var human = await CliRunner.RunAsync(server, ["put", "-r", "--dry-run", local.Path, "backup"], token);
        var json = await CliRunner.RunAsync(server, ["put", "-r", "-n", "--json", local.Path, "backup"], token);

        CliAssert.Success(human);
        Assert.Equal(
            ["would send backup/a.txt (6 B)", "would send backup/dir/b.txt (6 B)", "would send backup/dir/sub/c.txt (8 B)", "would send backup/Папка/d.txt (6 B)"],
            human.StdoutLines[..^1]);
        Assert.StartsWith("put: 4 to transfer, 0 unchanged, 0 failed; ", human.StdoutLines[^1], StringComparison.Ordinal);
        CliAssert.Success(json);
        Assert.Equal(4, JsonOutput.Items(json).Count);
        Assert.All(JsonOutput.Parse(json), o => Assert.True(o.GetProperty("dry_run").GetBoolean()));
        Assert.Equal(4, JsonOutput.Summary(json).GetProperty("transferred").GetInt32());
        Assert.Equal([".filexfer"], Directory.GetFileSystemEntries(server.Root).Select(Path.GetFileName));
    }

    [Fact(Timeout = 60000)]
    public async Task Dry_run_put_on_a_changed_tree_reports_only_the_change_and_leaves_the_server_as_it_was()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, Files, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        var before = await TestTrees.DescribeAsync(server.PathOf("backup"), token);
        await File.WriteAllTextAsync(TestTrees.Combine(local.Path, "dir/b.txt"), "bravo, longer now\n", token);
        await File.WriteAllTextAsync(TestTrees.Combine(local.Path, "new.txt"), "new\n", token);

        var run = await CliRunner.RunAsync(server, ["put", "-r", "--dry-run", local.Path, "backup"], token);

        CliAssert.Success(run);
        // In walk order: a directory's files, then its subdirectories.
        Assert.Equal(["would send backup/new.txt (4 B)", "would send backup/dir/b.txt (18 B)"], run.StdoutLines[..^1]);
        Assert.StartsWith("put: 2 to transfer, 3 unchanged, 0 failed; ", run.StdoutLines[^1], StringComparison.Ordinal);
        TestTrees.AssertSame(before, await TestTrees.DescribeAsync(server.PathOf("backup"), token), "the server after a dry run");
    }

    [Fact(Timeout = 60000)]
    public async Task Dry_run_get_writes_nothing_and_reports_what_it_would_receive()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(server.PathOf("backup"), Files, token);
        var destination = local.Combine("restore");

        var run = await CliRunner.RunAsync(server, ["get", "-r", "--dry-run", "backup", destination], token);

        CliAssert.Success(run);
        Assert.Equal(4, run.StdoutLines.Count(l => l.StartsWith("would receive ", StringComparison.Ordinal)));
        Assert.False(Directory.Exists(destination));
    }

    [Fact(Timeout = 60000)]
    public async Task Delete_removes_remote_only_files_and_directories_and_keeps_directory_times()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, Files, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        await TestTrees.CreateAsync(server.PathOf("backup"), new Dictionary<string, string>
        {
            ["old.txt"] = "old",
            ["old dir/nested/deeper/x.txt"] = "x",
            ["old dir/empty/"] = string.Empty,
            ["dir/sub/stale.bin"] = "stale",
        }, token);

        var run = await CliRunner.RunAsync(server, ["put", "-r", "--delete", local.Path, "backup"], token);

        CliAssert.Success(run);
        Assert.Equal(
            [
                // The walk's order reversed: everything below a directory before the directory itself.
                "deleted backup/old dir/nested/deeper/x.txt",
                "deleted backup/old dir/nested/deeper",
                "deleted backup/old dir/nested",
                "deleted backup/old dir/empty",
                "deleted backup/dir/sub/stale.bin",
                "deleted backup/old.txt",
                "deleted backup/old dir",
            ],
            run.StdoutLines[..^1]);
        Assert.StartsWith("put: 0 transferred, 4 unchanged, 0 failed, 7 deleted; ", run.StdoutLines[^1], StringComparison.Ordinal);
        // The server holds the source again, directory times included: deleting in a directory changes its time.
        TestTrees.AssertSame(await TestTrees.DescribeAsync(local.Path, token), await TestTrees.DescribeAsync(server.PathOf("backup"), token), "the server after --delete");
    }

    [Fact(Timeout = 60000)]
    public async Task Delete_from_an_empty_source_is_refused_with_exit_2_and_deletes_nothing()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(server.PathOf("backup"), Files, token);
        var before = await TestTrees.DescribeAsync(server.PathOf("backup"), token);
        var empty = local.Combine("empty");
        Directory.CreateDirectory(empty);

        var run = await CliRunner.RunAsync(server, ["put", "-r", "--delete", empty, "backup"], token);
        var dryRun = await CliRunner.RunAsync(server, ["put", "-r", "--delete", "--dry-run", empty, "backup"], token);

        Assert.Equal("filexfer: the source directory is empty; refusing to --delete everything on the server", CliAssert.OneErrorLine(run, 2));
        Assert.Empty(run.Stdout);
        CliAssert.OneErrorLine(dryRun, 2);
        TestTrees.AssertSame(before, await TestTrees.DescribeAsync(server.PathOf("backup"), token), "the server after a refused --delete");
    }

    [Fact(Timeout = 60000)]
    public async Task Delete_with_more_deletions_than_max_delete_is_refused_with_exit_2_and_deletes_nothing()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, Files, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        await TestTrees.CreateAsync(server.PathOf("backup"), new Dictionary<string, string> { ["x1"] = "1", ["x2"] = "2", ["dir/x3"] = "3" }, token);
        await File.WriteAllTextAsync(TestTrees.Combine(local.Path, "new.txt"), "sent: the walk transfers as it goes", token);

        var run = await CliRunner.RunAsync(server, ["put", "-r", "--delete", "--max-delete", "1", local.Path, "backup"], token);
        var json = await CliRunner.RunAsync(server, ["put", "-r", "--delete", "--max-delete", "1", "--json", local.Path, "backup"], token);

        Assert.Equal("filexfer: 3 deletions planned, more than --max-delete 1; nothing was deleted", CliAssert.OneErrorLine(run, 2));
        Assert.Equal(2, json.ExitCode);

        // Deletions are counted over the whole walk before the first one: none happened. What was sent stays sent.
        foreach (var kept in new[] { "x1", "x2", "dir/x3" })
        {
            Assert.True(File.Exists(server.PathOf("backup/" + kept)), kept);
        }

        Assert.Equal("sent: the walk transfers as it goes", await File.ReadAllTextAsync(server.PathOf("backup/new.txt"), token));
    }

    [Fact(Timeout = 60000)]
    public async Task Delete_with_dry_run_lists_what_would_be_deleted_and_deletes_nothing()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, Files, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        await TestTrees.CreateAsync(server.PathOf("backup"), new Dictionary<string, string> { ["x1"] = "1", ["gone/x2"] = "2" }, token);
        var before = await TestTrees.DescribeAsync(server.PathOf("backup"), token);

        var human = await CliRunner.RunAsync(server, ["put", "-r", "--delete", "--dry-run", local.Path, "backup"], token);
        var json = await CliRunner.RunAsync(server, ["put", "-r", "--delete", "--dry-run", "--json", local.Path, "backup"], token);

        CliAssert.Success(human);
        // Found as the walk goes: a directory before what it holds.
        Assert.Equal(["would delete backup/gone", "would delete backup/x1", "would delete backup/gone/x2"], human.StdoutLines[..^1]);
        Assert.StartsWith("put: 0 to transfer, 4 unchanged, 0 failed, 3 to delete; ", human.StdoutLines[^1], StringComparison.Ordinal);
        CliAssert.Success(json);
        var deletions = JsonOutput.Items(json).Where(i => JsonOutput.Text(i, "op") == "delete").ToList();
        Assert.Equal(3, deletions.Count);
        Assert.All(deletions, d =>
        {
            Assert.Equal("deleted", JsonOutput.Text(d, "status"));
            Assert.Equal(JsonValueKind.Null, d.GetProperty("local").ValueKind);
            Assert.True(d.GetProperty("dry_run").GetBoolean());
        });
        Assert.Equal(3, JsonOutput.Summary(json).GetProperty("deleted").GetInt32());
        TestTrees.AssertSame(before, await TestTrees.DescribeAsync(server.PathOf("backup"), token), "the server after a dry run with --delete");
    }

    [Fact(Timeout = 60000)]
    public async Task Delete_leaves_excluded_files_and_everything_in_excluded_directories_alone()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, Files, token);
        await TestTrees.CreateAsync(local.Path, new Dictionary<string, string> { ["cache/local.tmp"] = "local cache" }, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        var serverOnly = new Dictionary<string, string>
        {
            ["cache/remote.tmp"] = "remote cache",
            ["dir/cache/deep/x.tmp"] = "deep cache",
            ["dir/kept.log"] = "a log",
            ["stale.txt"] = "stale",
        };
        await TestTrees.CreateAsync(server.PathOf("backup"), serverOnly, token);

        var run = await CliRunner.RunAsync(server, ["put", "-r", "--delete", "--exclude", "cache/", "--exclude", "*.log", local.Path, "backup"], token);

        CliAssert.Success(run);
        Assert.Equal(["deleted backup/stale.txt"], run.StdoutLines[..^1]);
        foreach (var kept in new[] { "cache/local.tmp", "cache/remote.tmp", "dir/cache/deep/x.tmp", "dir/kept.log" })
        {
            Assert.True(File.Exists(server.PathOf("backup/" + kept)), $"--delete removed the excluded 'backup/{kept}'\n{run}");
        }
    }

    [Fact(Timeout = 60000)]
    public async Task Delete_leaves_alone_what_is_below_a_local_directory_that_could_not_be_read()
    {
        // A directory that became a symbolic link is reported and not followed: its backup must not be wiped.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        using var elsewhere = new TempDirectory();
        var source = local.Combine("source");
        await TestTrees.CreateAsync(source, Files, token);
        await TestTrees.CreateAsync(source, new Dictionary<string, string> { ["photos/2024/p.jpg"] = "jpeg" }, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", source, "backup"], token));
        Directory.Move(TestTrees.Combine(source, "photos"), elsewhere.Combine("photos"));
        Directory.CreateSymbolicLink(TestTrees.Combine(source, "photos"), elsewhere.Combine("photos"));

        var run = await CliRunner.RunAsync(server, ["put", "-r", "--delete", source, "backup"], token);

        Assert.True(run.ExitCode == 7, run.ToString());
        Assert.Contains("backup/photos: symbolic link to a directory: not followed", run.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(server.PathOf("backup/photos/2024/p.jpg")), $"--delete removed the backup of a directory it could not read\n{run}");
        Assert.DoesNotContain("deleted", run.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    [UnsupportedOSPlatform("windows")]
    public async Task Delete_leaves_alone_what_is_below_an_unreadable_local_directory()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix permission bits are needed to make a directory unreadable");
        Assert.SkipWhen(Environment.UserName == "root", "root reads every directory whatever its permission bits");
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, Files, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        var locked = TestTrees.Combine(local.Path, "dir");
        File.SetUnixFileMode(locked, UnixFileMode.None);
        try
        {
            var run = await CliRunner.RunAsync(server, ["put", "-r", "--delete", local.Path, "backup"], token);

            Assert.True(run.ExitCode == 7, run.ToString());
            Assert.True(File.Exists(server.PathOf("backup/dir/sub/c.txt")), $"--delete removed the backup of a directory it could not read\n{run}");
        }
        finally
        {
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
