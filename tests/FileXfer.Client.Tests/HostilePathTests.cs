namespace FileXfer.Client.Tests;

/// <summary>Paths that try to leave the server's root, through the command line against the real server.</summary>
public class HostilePathTests
{
    [Theory(Timeout = 60000)]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a\\..\\b")]
    [InlineData("..")]
    [InlineData("a/..")]
    [InlineData("/../x")]
    [InlineData("..\\x")]
    public async Task Traversal_is_refused_for_every_command_and_nothing_is_written(string remote)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var file = local.Combine("f.txt");
        await File.WriteAllTextAsync(file, "payload", token);

        var put = await CliRunner.RunAsync(server, ["put", file, remote], token);
        var get = await CliRunner.RunAsync(server, ["get", remote, local.Combine("got")], token);
        var stat = await CliRunner.RunAsync(server, ["stat", remote], token);
        var ls = await CliRunner.RunAsync(server, ["ls", remote], token);
        var rm = await CliRunner.RunAsync(server, ["rm", remote], token);
        var hash = await CliRunner.RunAsync(server, ["hash", remote], token);

        foreach (var run in new[] { put, get, stat, ls, rm, hash })
        {
            Assert.Contains("invalid path", CliAssert.OneErrorLine(run, 2), StringComparison.Ordinal);
        }

        Assert.Empty(TestFiles.ListRelative(server.Root));
        Assert.Equal(["f.txt"], TestFiles.ListRelative(local.Path));
        Assert.Equal(["root"], Directory.GetFileSystemEntries(server.Sandbox).Select(Path.GetFileName));
    }

    [Fact(Timeout = 60000)]
    public async Task A_leading_slash_means_the_root_never_the_local_file_system()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var outside = new TempDirectory("filexfer-outside");
        using var local = new TempDirectory();
        var file = local.Combine("f.txt");
        await File.WriteAllTextAsync(file, "payload", token);
        // An absolute path of this machine, as a remote path: it must land inside the root.
        var absolute = outside.Combine("planted.txt");

        var put = await CliRunner.RunAsync(server, ["put", file, absolute], token);
        var getPasswd = await CliRunner.RunAsync(server, ["get", "/etc/passwd", local.Combine("passwd")], token);
        var statPasswd = await CliRunner.RunAsync(server, ["stat", "/etc/passwd"], token);

        CliAssert.Success(put);
        Assert.False(File.Exists(absolute));
        Assert.Empty(TestFiles.ListRelative(outside.Path));
        Assert.Equal(["root"], Directory.GetFileSystemEntries(server.Sandbox).Select(Path.GetFileName));
        Assert.Equal("payload", await File.ReadAllTextAsync(server.PathOf(absolute), token));
        Assert.StartsWith(server.Root + "/", server.PathOf(absolute), StringComparison.Ordinal);
        CliAssert.OneErrorLine(getPasswd, 5);
        CliAssert.OneErrorLine(statPasswd, 5);
        Assert.False(File.Exists(local.Combine("passwd")));
    }

    [Fact(Timeout = 60000)]
    public async Task A_symbolic_link_to_outside_the_root_is_refused_both_ways()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var outside = new TempDirectory("filexfer-outside");
        using var local = new TempDirectory();
        await File.WriteAllTextAsync(outside.Combine("secret"), "top secret", token);
        Directory.CreateSymbolicLink(server.PathOf("link"), outside.Path);
        File.CreateSymbolicLink(server.PathOf("file-link"), outside.Combine("secret"));
        File.CreateSymbolicLink(server.PathOf("dangling"), outside.Combine("not-yet"));
        var file = local.Combine("f.txt");
        await File.WriteAllTextAsync(file, "payload", token);

        var getSecret = await CliRunner.RunAsync(server, ["get", "link/secret", local.Combine("stolen")], token);
        var putNew = await CliRunner.RunAsync(server, ["put", file, "link/new"], token);
        var putDeep = await CliRunner.RunAsync(server, ["put", file, "link/sub/dir/new"], token);
        var putOverSecret = await CliRunner.RunAsync(server, ["put", file, "link/secret"], token);
        var getFileLink = await CliRunner.RunAsync(server, ["get", "file-link", local.Combine("stolen")], token);
        var putFileLink = await CliRunner.RunAsync(server, ["put", file, "file-link"], token);
        var putDangling = await CliRunner.RunAsync(server, ["put", file, "dangling"], token);
        var hashSecret = await CliRunner.RunAsync(server, ["hash", "link/secret"], token);
        var lsLink = await CliRunner.RunAsync(server, ["ls", "link"], token);
        var statSecret = await CliRunner.RunAsync(server, ["stat", "link/secret"], token);
        var rmSecret = await CliRunner.RunAsync(server, ["rm", "link/secret"], token);

        foreach (var run in new[] { getSecret, putNew, putDeep, putOverSecret, getFileLink, putFileLink, putDangling, hashSecret, lsLink, statSecret, rmSecret })
        {
            Assert.Contains("symbolic link", CliAssert.OneErrorLine(run, 6), StringComparison.Ordinal);
            Assert.DoesNotContain("top secret", run.Stdout, StringComparison.Ordinal);
        }

        Assert.Equal(["secret"], TestFiles.ListRelative(outside.Path));
        Assert.Equal(["root"], Directory.GetFileSystemEntries(server.Sandbox).Select(Path.GetFileName));
        Assert.Equal("top secret", await File.ReadAllTextAsync(outside.Combine("secret"), token));
        Assert.Equal(["f.txt"], TestFiles.ListRelative(local.Path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.StagingDirectory));
    }

    [Fact(Timeout = 60000)]
    public async Task A_symbolic_link_that_stays_inside_the_root_is_followed()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        Directory.CreateDirectory(server.PathOf("real"));
        await File.WriteAllTextAsync(server.PathOf("real/inside.txt"), "inside", token);
        Directory.CreateSymbolicLink(server.PathOf("alias"), server.PathOf("real"));

        var get = await CliRunner.RunAsync(server, ["get", "alias/inside.txt", local.Combine("got.txt")], token);

        CliAssert.Success(get);
        Assert.Equal("inside", await File.ReadAllTextAsync(local.Combine("got.txt"), token));
    }

    [Fact(Timeout = 60000)]
    public async Task The_server_folder_cannot_be_named()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var file = local.Combine("f.txt");
        await File.WriteAllTextAsync(file, "payload", token);

        var put = await CliRunner.RunAsync(server, ["put", file, ".filexfer/staging/x.part"], token);
        var ls = await CliRunner.RunAsync(server, ["ls", "/.filexfer"], token);

        Assert.Contains("reserved", CliAssert.OneErrorLine(put, 2), StringComparison.Ordinal);
        CliAssert.OneErrorLine(ls, 2);
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.StagingDirectory));
    }
}
