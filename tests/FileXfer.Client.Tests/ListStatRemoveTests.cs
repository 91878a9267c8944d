namespace FileXfer.Client.Tests;

/// <summary>The output of <c>ls</c>, <c>ls -l</c>, <c>stat</c> and <c>rm</c>.</summary>
public class ListStatRemoveTests
{
    private static readonly DateTime Modified = new(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);

    [Fact(Timeout = 60000)]
    public async Task Ls_lists_sorted_with_a_slash_after_directories_and_hides_the_server_folder()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await MakeTreeAsync(server, token);

        var root = await CliRunner.RunAsync(server, ["ls"], token);
        var slash = await CliRunner.RunAsync(server, ["ls", "/"], token);
        var sub = await CliRunner.RunAsync(server, ["ls", "b-dir/"], token);
        var empty = await CliRunner.RunAsync(server, ["ls", "empty"], token);

        CliAssert.Success(root);
        Assert.Equal(["B.txt", "a.txt", "b-dir/", "c.bin", "empty/", "z 空格/"], root.StdoutLines);
        Assert.Equal(root.Stdout, slash.Stdout);
        Assert.Equal(["inner.txt", "nested/"], sub.StdoutLines);
        CliAssert.Success(empty);
        Assert.Empty(empty.Stdout);
    }

    [Fact(Timeout = 60000)]
    public async Task Ls_long_shows_type_permissions_size_and_time()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await MakeTreeAsync(server, token);

        var result = await CliRunner.RunAsync(server, ["ls", "-l"], token);
        var same = await CliRunner.RunAsync(server, ["ls", "--long", "/"], token);

        CliAssert.Success(result);
        Assert.Equal(result.Stdout, same.Stdout);
        var lines = result.StdoutLines;
        Assert.Equal(6, lines.Length);
        Assert.Equal($"-rw-r----- {5,14} 2024-05-06 07:08:09 a.txt", lines[1]);
        Assert.Equal($"-rw-r--r-- {1000,14} 2024-05-06 07:08:09 c.bin", lines[3]);
        Assert.StartsWith("drwx", lines[2], StringComparison.Ordinal);
        Assert.EndsWith(" b-dir/", lines[2], StringComparison.Ordinal);
        Assert.Matches(@"^d[rwx-]{9} {14}0 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d z 空格/$", lines[5]);
    }

    [Fact(Timeout = 60000)]
    public async Task Ls_of_a_file_shows_the_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await MakeTreeAsync(server, token);

        var plain = await CliRunner.RunAsync(server, ["ls", "b-dir/inner.txt"], token);
        var longFormat = await CliRunner.RunAsync(server, ["ls", "-l", "a.txt"], token);

        CliAssert.Success(plain);
        Assert.Equal("inner.txt\n", plain.Stdout);
        CliAssert.Success(longFormat);
        Assert.Equal($"-rw-r----- {5,14} 2024-05-06 07:08:09 a.txt\n", longFormat.Stdout);
    }

    [Fact(Timeout = 60000)]
    public async Task Stat_describes_files_and_directories()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await MakeTreeAsync(server, token);

        var file = await CliRunner.RunAsync(server, ["stat", "/b-dir/inner.txt"], token);
        var directory = await CliRunner.RunAsync(server, ["stat", "b-dir/nested/"], token);
        var root = await CliRunner.RunAsync(server, ["stat", "/"], token);

        CliAssert.Success(file);
        Assert.Equal(
            "path: /b-dir/inner.txt\ntype: file\nsize: 6\nmodified: 2024-05-06T07:08:09.0000000Z\nmode: 0600 (rw-------)\n",
            file.Stdout);
        CliAssert.Success(directory);
        Assert.StartsWith("path: /b-dir/nested\ntype: directory\nsize: 0\nmodified: ", directory.Stdout, StringComparison.Ordinal);
        CliAssert.Success(root);
        Assert.StartsWith("path: /\ntype: directory\n", root.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task Rm_deletes_files_and_empty_directories()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await MakeTreeAsync(server, token);

        var result = await CliRunner.RunAsync(server, ["rm", "a.txt", "/empty", "b-dir/inner.txt"], token);
        var ls = await CliRunner.RunAsync(server, ["ls"], token);

        CliAssert.Success(result);
        Assert.Empty(result.Stdout);
        Assert.Equal(["B.txt", "b-dir/", "c.bin", "z 空格/"], ls.StdoutLines);
        Assert.False(File.Exists(server.PathOf("a.txt")));
        Assert.False(Directory.Exists(server.PathOf("empty")));
    }

    [Fact(Timeout = 60000)]
    public async Task Rm_of_a_non_empty_directory_fails_clearly_and_goes_on_with_the_rest()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await MakeTreeAsync(server, token);

        var result = await CliRunner.RunAsync(server, ["rm", "b-dir", "c.bin"], token);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal(["filexfer: server: directory 'b-dir' is not empty"], result.StderrLines);
        Assert.True(File.Exists(server.PathOf("b-dir/inner.txt")));
        Assert.False(File.Exists(server.PathOf("c.bin")));
    }

    [Fact(Timeout = 60000)]
    public async Task Rm_of_the_root_or_the_server_folder_is_refused()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();

        var root = await CliRunner.RunAsync(server, ["rm", "/"], token);
        var reserved = await CliRunner.RunAsync(server, ["rm", ".filexfer/staging"], token);

        Assert.Equal("filexfer: server: cannot delete the root directory", CliAssert.OneErrorLine(root, 6));
        CliAssert.OneErrorLine(reserved, 2);
        Assert.True(Directory.Exists(server.StagingDirectory));
    }

    private static async Task MakeTreeAsync(TestServer server, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(server.PathOf("b-dir/nested"));
        Directory.CreateDirectory(server.PathOf("empty"));
        Directory.CreateDirectory(server.PathOf("z 空格"));
        await WriteAsync(server.PathOf("a.txt"), "hello", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, cancellationToken);
        await WriteAsync(server.PathOf("B.txt"), "upper", UnixFileMode.UserRead | UnixFileMode.UserWrite, cancellationToken);
        await WriteAsync(server.PathOf("c.bin"), new string('c', 1000), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, cancellationToken);
        await WriteAsync(server.PathOf("b-dir/inner.txt"), "inside", UnixFileMode.UserRead | UnixFileMode.UserWrite, cancellationToken);
    }

    private static async Task WriteAsync(string path, string content, UnixFileMode mode, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(path, content, cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }

        File.SetLastWriteTimeUtc(path, Modified);
    }
}
