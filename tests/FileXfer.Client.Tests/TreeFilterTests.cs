namespace FileXfer.Client.Tests;

/// <summary>
/// <c>--include</c>, <c>--exclude</c>, their <c>-from</c> files and <c>--files-from</c> on real tree transfers, both
/// directions, and on <c>verify -r</c>: what arrives, what is deleted, and the usage errors.
/// </summary>
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

    // A --files-from list: a directory, a file with a leading '/', one with './', a comment and a blank line.
    private const string ListedPaths = "notes/deep\n/a.txt\n# not this\n\n./Документы/кэш.txt\n";

    private static readonly string[] ListedFiles = ["a.txt", "notes/deep/er/e.txt", "Документы/кэш.txt"];

    // The directories above the listed paths are made on the way; none other is.
    private static readonly string[] ListedDirectories = ["notes", "notes/deep", "notes/deep/er", "Документы"];

    // What the .txt filters leave of the tree without its file named cache.
    private static readonly string[] OnlyText =
        ["a.txt", "cache/f.txt", "cachet/i.txt", "notes/c.txt", "notes/deep/er/e.txt", "src/cache/g.txt", "Документы/кэш.txt"];

    [Fact(Timeout = 60000)]
    public async Task Include_directories_and_txt_exclude_everything_sends_only_txt_files_at_any_depth()
    {
        var (files, _) = await PutFilteredAsync(WithoutFileNamedCache(), ["--include", "*/", "--include", "*.txt", "--exclude", "*"], TestContext.Current.CancellationToken);

        Assert.Equal(OnlyText, files);
    }

    [Fact(Timeout = 60000)]
    public async Task Include_txt_exclude_everything_leaves_out_the_directories_too_as_rsync_does()
    {
        var (files, directories) = await PutFilteredAsync(WithoutFileNamedCache(), ["--include", "*.txt", "--exclude", "*"], TestContext.Current.CancellationToken);

        Assert.Equal(["a.txt"], files);
        Assert.Empty(directories);
    }

    [Theory(Timeout = 60000)]
    [InlineData("cache/", true)]
    [InlineData("cache", false)]
    public async Task Exclude_cache_leaves_out_every_directory_named_cache_and_without_a_slash_files_named_cache_too(string pattern, bool keepsFileNamedCache)
    {
        var tree = new Dictionary<string, string>(Files);
        tree.Remove("src/cache/g.txt");

        var (files, directories) = await PutFilteredAsync(tree, ["--exclude", pattern], TestContext.Current.CancellationToken);

        string[] fileNamedCache = keepsFileNamedCache ? ["src/cache"] : [];
        Assert.Equal(["a.txt", "b.bin", "cachet/i.txt", "notes/c.txt", "notes/d.md", "notes/deep/er/e.txt", .. fileNamedCache, "Документы/кэш.txt"], files);
        Assert.DoesNotContain("cache", directories);
        Assert.DoesNotContain("src/lib/cache", directories);
    }

    [Fact(Timeout = 60000)]
    public async Task A_class_pattern_leaves_out_the_names_it_matches()
    {
        var tree = new Dictionary<string, string> { ["x.o"] = "o", ["x.a"] = "a", ["x.c"] = "c", ["lib/y.o"] = "o" };

        var (files, _) = await PutFilteredAsync(tree, ["--exclude", "*.[oa]"], TestContext.Current.CancellationToken);

        Assert.Equal(["x.c"], files);
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

    [Fact(Timeout = 60000)]
    public async Task Exclude_from_files_leave_out_their_patterns_past_comments_blank_lines_and_crlf()
    {
        var token = TestContext.Current.CancellationToken;
        using var lists = new TempDirectory();
        var binaries = await WriteListAsync(lists, "binaries", "# build output\r\n*.bin\r\n\r\n; and notes in markdown\r\n*.md\r\n", token);
        var caches = await WriteListAsync(lists, "caches", "cache/\n", token);

        var (files, _) = await PutFilteredAsync(WithoutFileNamedCache(), ["--exclude-from", binaries, "--exclude-from", caches], token);

        Assert.Equal(["a.txt", "cachet/i.txt", "notes/c.txt", "notes/deep/er/e.txt", "Документы/кэш.txt"], files);
    }

    [Fact(Timeout = 60000)]
    public async Task Include_from_a_file_rescues_what_exclude_leaves_out_on_get()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(server.PathOf("backup"), WithoutFileNamedCache(), token);
        var includes = await WriteListAsync(local, "includes", "# every directory, and text files in them\n*/\n*.txt\n", token);
        var copy = local.Combine("copy");

        var get = await CliRunner.RunAsync(server, ["--quiet", "get", "-r", "--include-from", includes, "--exclude", "*", "backup", copy], token);

        CliAssert.Success(get);
        Assert.Equal(OnlyText, TestFiles.ListRelative(copy));
    }

    [Fact(Timeout = 60000)]
    public async Task Files_from_puts_only_the_listed_files_and_directories()
    {
        var token = TestContext.Current.CancellationToken;
        using var lists = new TempDirectory();
        var list = await WriteListAsync(lists, "list", ListedPaths, token);

        var (files, directories) = await PutFilteredAsync(WithoutFileNamedCache(), ["--files-from", list], token);

        Assert.Equal(ListedFiles, files);
        Assert.Equal(ListedDirectories, directories);
    }

    [Fact(Timeout = 60000)]
    public async Task Files_from_gets_only_the_listed_files_and_directories()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(server.PathOf("backup"), WithoutFileNamedCache(), token);
        var list = await WriteListAsync(local, "list", ListedPaths, token);
        var copy = local.Combine("copy");

        var get = await CliRunner.RunAsync(server, ["--quiet", "get", "-r", "--files-from", list, "backup", copy], token);

        CliAssert.Success(get);
        Assert.Equal(ListedFiles, TestFiles.ListRelative(copy));
        Assert.Equal(ListedDirectories, ListDirectories(copy));
    }

    [Fact(Timeout = 60000)]
    public async Task Files_from_with_an_exclude_leaves_out_an_excluded_listed_file()
    {
        var token = TestContext.Current.CancellationToken;
        using var lists = new TempDirectory();
        var list = await WriteListAsync(lists, "list", "a.txt\nb.bin\nnotes\n", token);

        var (files, _) = await PutFilteredAsync(WithoutFileNamedCache(), ["--files-from", list, "--exclude", "*.bin", "--exclude", "*.md"], token);

        Assert.Equal(["a.txt", "notes/c.txt", "notes/deep/er/e.txt"], files);
    }

    [Fact(Timeout = 60000)]
    public async Task Delete_with_files_from_deletes_nothing_outside_the_listed_paths()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        using var lists = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, WithoutFileNamedCache(), token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        await TestTrees.CreateAsync(server.PathOf("backup"), new Dictionary<string, string>
        {
            ["notes/deep/stale.txt"] = "below a listed directory",
            ["notes/stale.txt"] = "beside a listed directory",
            ["stale.txt"] = "at the top",
            ["old/x.txt"] = "in a directory not listed",
        }, token);
        File.Delete(Path.Combine(local.Path, "a.txt"));
        File.Delete(Path.Combine(local.Path, "b.bin"));
        var list = await WriteListAsync(lists, "list", "notes/deep\na.txt\n", token);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "--delete", "--files-from", list, local.Path, "backup"], token);

        CliAssert.Success(put);
        Assert.False(File.Exists(server.PathOf("backup/notes/deep/stale.txt")), "a file below a listed directory that the source lacks is deleted");
        Assert.False(File.Exists(server.PathOf("backup/a.txt")), "a listed file that the source lacks is deleted");
        foreach (var kept in new[] { "notes/stale.txt", "stale.txt", "old/x.txt", "b.bin", "notes/c.txt", "notes/d.md", "cache/f.txt", "notes/deep/er/e.txt" })
        {
            Assert.True(File.Exists(server.PathOf("backup/" + kept)), $"--delete with --files-from removed 'backup/{kept}'\n{put}");
        }
    }

    [Fact(Timeout = 60000)]
    public async Task Delete_with_files_from_keeps_a_directory_above_a_listed_path_that_the_source_lacks()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        using var lists = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, new Dictionary<string, string> { ["keep.txt"] = "k" }, token);
        await TestTrees.CreateAsync(server.PathOf("backup"), new Dictionary<string, string> { ["gone/x.txt"] = "x", ["gone/y.txt"] = "y", ["keep.txt"] = "k" }, token);
        var list = await WriteListAsync(lists, "list", "gone/x.txt\nkeep.txt\n", token);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", "--delete", "--files-from", list, local.Path, "backup"], token);

        CliAssert.Success(put);
        Assert.Equal(["gone/y.txt", "keep.txt"], TestFiles.ListRelative(server.PathOf("backup")));
    }

    [Fact(Timeout = 60000)]
    public async Task Verify_r_with_files_from_compares_only_the_listed_paths()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        using var lists = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, WithoutFileNamedCache(), token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Path, "backup"], token));
        await File.WriteAllTextAsync(Path.Combine(local.Path, "b.bin"), "changed here only", token);
        var list = await WriteListAsync(lists, "list", "notes\na.txt\n", token);

        var listed = await CliRunner.RunAsync(server, ["--quiet", "verify", "-r", "--files-from", list, local.Path, "backup"], token);
        var whole = await CliRunner.RunAsync(server, ["--quiet", "verify", "-r", local.Path, "backup"], token);

        CliAssert.Success(listed);
        Assert.Equal(4, whole.ExitCode);
    }

    [Theory(Timeout = 60000)]
    [InlineData("put", "--exclude-from")]
    [InlineData("put", "--include-from")]
    [InlineData("get", "--files-from")]
    [InlineData("verify", "--exclude-from")]
    public async Task A_list_file_that_cannot_be_read_is_a_usage_error_of_one_line(string command, string option)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var missing = local.Combine("no such list");
        string[] paths = command == "get" ? ["backup", local.Combine("copy")] : [local.Path, "backup"];

        var run = await CliRunner.RunAsync(server, [command, "-r", option, missing, .. paths], token);

        var line = CliAssert.OneErrorLine(run, 2);
        Assert.Equal($"filexfer: cannot read {option} '{missing}': no such file", line);
        Assert.False(Directory.Exists(server.PathOf("backup")));
    }

    [Fact(Timeout = 60000)]
    public async Task A_directory_given_as_a_list_is_a_usage_error_of_one_line()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();

        var put = await CliRunner.RunAsync(server, ["put", "-r", "--exclude-from", local.Path, local.Path, "backup"], token);

        Assert.Equal($"filexfer: cannot read --exclude-from '{local.Path}': it is a directory", CliAssert.OneErrorLine(put, 2));
    }

    [Theory(Timeout = 60000)]
    [InlineData("--exclude-from")]
    [InlineData("--files-from")]
    public async Task Standard_input_as_a_list_is_refused(string option)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();

        var put = await CliRunner.RunAsync(server, ["put", "-r", option, "-", local.Path, "backup"], token);

        Assert.Contains("standard input", CliAssert.OneErrorLine(put, 2), StringComparison.Ordinal);
    }

    [Theory(Timeout = 60000)]
    [InlineData("../secret")]
    [InlineData("notes/../../secret")]
    public async Task Files_from_with_a_path_that_climbs_out_is_a_usage_error(string listed)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        using var lists = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, WithoutFileNamedCache(), token);
        var list = await WriteListAsync(lists, "list", $"a.txt\n{listed}\n", token);

        var put = await CliRunner.RunAsync(server, ["put", "-r", "--files-from", list, local.Path, "backup"], token);

        Assert.Contains("'..' component is not allowed", CliAssert.OneErrorLine(put, 2), StringComparison.Ordinal);
        Assert.False(Directory.Exists(server.PathOf("backup")));
    }

    [Theory(Timeout = 60000)]
    [InlineData("put", "--files-from")]
    [InlineData("get", "--exclude-from")]
    [InlineData("verify", "--include-from")]
    [InlineData("verify", "--exclude")]
    public async Task The_filter_options_need_r(string command, string option)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var file = local.Combine("file.txt");
        await File.WriteAllTextAsync(file, "x", token);
        string[] paths = command == "get" ? ["file.txt", local.Combine("copy.txt")] : [file, "file.txt"];

        var run = await CliRunner.RunAsync(server, [command, option, file, .. paths], token);

        Assert.Equal($"filexfer: {option} needs -r", CliAssert.OneErrorLine(run, 2));
    }

    /// <summary>Puts a tree of <paramref name="tree"/> with the filter arguments to a new server; what it then holds.</summary>
    private static async Task<(string[] Files, string[] Directories)> PutFilteredAsync(IReadOnlyDictionary<string, string> tree, string[] filterArguments, CancellationToken cancellationToken)
    {
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await TestTrees.CreateAsync(local.Path, tree, cancellationToken);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", "-r", .. filterArguments, local.Path, "backup"], cancellationToken);

        CliAssert.Success(put);
        return (TestFiles.ListRelative(server.PathOf("backup")), ListDirectories(server.PathOf("backup")));
    }

    private static string[] ListDirectories(string root) =>
        [.. Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).Select(d => Path.GetRelativePath(root, d)).Order(StringComparer.Ordinal)];

    private static async Task<string> WriteListAsync(TempDirectory directory, string name, string content, CancellationToken cancellationToken)
    {
        var path = directory.Combine(name + ".txt");
        await File.WriteAllTextAsync(path, content, cancellationToken);
        return path;
    }

    private static Dictionary<string, string> WithoutFileNamedCache()
    {
        var files = new Dictionary<string, string>(Files);
        files.Remove("src/cache");
        return files;
    }
}
