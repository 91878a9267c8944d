namespace FileXfer.Client.Tests;

/// <summary><c>--include</c> and <c>--exclude</c> on real tree transfers, both directions.</summary>
public class TreeFilterTests
{
    private static readonly Dictionary<string, string> Files = new(StringComparer.Ordinal)
    {
        ["a.txt"] = "a",
        ["b.bin"] = "b",
        ["notes/c.txt"] = "c",
        ["notes/d.md"] = "d",
        ["notes/deep/er/e.txt"] = "e",
        ["cache/f.txt"] = "f",
        ["src/cache/g.txt"] = "g",
        ["src/lib/cache/h.bin"] = "h",
        ["src/cache"] = "a file named cache",
        ["cachet/i.txt"] = "i",
        ["Документы/кэш.txt"] = "j",
    };

    // What the .txt filters leave of the tree without its file named cache.
    private static readonly string[] OnlyText =
        ["a.txt", "cache/f.txt", "cachet/i.txt", "notes/c.txt", "notes/deep/er/e.txt", "src/cache/g.txt", "Документы/кэш.txt"];

    [Fact(Timeout = 60000)]
    public async Task Include_directories_and_txt_exclude_everything_sends_only_txt_files_at_any_depth()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, WithoutFileNamedCache(), token);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "--include", "*/", "--include", "*.txt", "--exclude", "*", local.Path, "backup"], token);

        CliAssert.Success(put);
        Assert.Equal(OnlyText, TestFiles.ListRelative(server.PathOf("backup")));
    }

    [Fact(Timeout = 60000)]
    public async Task Include_txt_exclude_everything_leaves_out_the_directories_too_as_rsync_does()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, WithoutFileNamedCache(), token);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "--include", "*.txt", "--exclude", "*", local.Path, "backup"], token);

        CliAssert.Success(put);
        Assert.Equal(["a.txt"], TestFiles.ListRelative(server.PathOf("backup")));
        Assert.Empty(Directory.EnumerateDirectories(server.PathOf("backup")));
    }

    [Fact(Timeout = 60000)]
    public async Task Exclude_cache_without_a_slash_leaves_out_directories_named_cache_with_all_they_hold_and_files_named_cache()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var files = new Dictionary<string, string>(Files);
        files.Remove("src/cache/g.txt");
        await TestTrees.CreateAsync(local.Path, files, token);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "--exclude", "cache", local.Path, "backup"], token);

        CliAssert.Success(put);
        Assert.Equal(
            ["a.txt", "b.bin", "cachet/i.txt", "notes/c.txt", "notes/d.md", "notes/deep/er/e.txt", "Документы/кэш.txt"],
            TestFiles.ListRelative(server.PathOf("backup")));
        Assert.False(Directory.Exists(server.PathOf("backup/cache")));
        Assert.False(Directory.Exists(server.PathOf("backup/src/lib/cache")));
    }

    [Fact(Timeout = 60000)]
    public async Task A_class_pattern_leaves_out_the_names_it_matches()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, new Dictionary<string, string> { ["x.o"] = "o", ["x.a"] = "a", ["x.c"] = "c", ["lib/y.o"] = "o" }, token);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "--exclude", "*.[oa]", local.Path, "backup"], token);

        CliAssert.Success(put);
        Assert.Equal(["x.c"], TestFiles.ListRelative(server.PathOf("backup")));
    }

    [Fact(Timeout = 60000)]
    public async Task Exclude_cache_slash_skips_every_directory_named_cache_but_not_a_file_named_cache()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var files = new Dictionary<string, string>(Files);
        files.Remove("src/cache/g.txt");
        await TestTrees.CreateAsync(local.Path, files, token);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "--exclude", "cache/", local.Path, "backup"], token);

        CliAssert.Success(put);
        Assert.Equal(
            ["a.txt", "b.bin", "cachet/i.txt", "notes/c.txt", "notes/d.md", "notes/deep/er/e.txt", "src/cache", "Документы/кэш.txt"],
            TestFiles.ListRelative(server.PathOf("backup")));
        Assert.False(Directory.Exists(server.PathOf("backup/cache")));
        Assert.False(Directory.Exists(server.PathOf("backup/src/lib/cache")));
    }

    [Fact(Timeout = 60000)]
    public async Task Get_r_applies_the_same_filters_to_what_the_server_has()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(server.PathOf("backup"), WithoutFileNamedCache(), token);
        var onlyText = local.Combine("only-text");
        var noCache = local.Combine("no-cache");

        var first = await CliRunner.RunAsync(server, ["--quiet", "get", "-r", "--include", "*/", "--include", "*.txt", "--exclude", "*", "backup", onlyText], token);
        var second = await CliRunner.RunAsync(server, ["--quiet", "get", "-r", "--exclude", "cache/", "--exclude", "notes/**/*.txt", "backup", noCache], token);

        CliAssert.Success(first);
        CliAssert.Success(second);
        Assert.Equal(OnlyText, TestFiles.ListRelative(onlyText));
        Assert.Equal(["a.txt", "b.bin", "cachet/i.txt", "notes/d.md", "Документы/кэш.txt"], TestFiles.ListRelative(noCache));
    }

    [Theory(Timeout = 60000)]
    [InlineData("--include")]
    [InlineData("--exclude")]
    public async Task A_blank_pattern_is_a_usage_error(string option)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();

        var put = await CliRunner.RunAsync(server, ["put", "-r", option, " ", local.Path, "backup"], token);

        CliAssert.UsageError(put);
        Assert.Contains("bad --include/--exclude pattern", put.Stderr, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> WithoutFileNamedCache()
    {
        var files = new Dictionary<string, string>(Files);
        files.Remove("src/cache");
        return files;
    }
}
