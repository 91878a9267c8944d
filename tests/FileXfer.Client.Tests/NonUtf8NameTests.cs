using System.Net;
using FileXfer.Client.Tests.Faults;

namespace FileXfer.Client.Tests;

/// <summary>
/// Names that are not UTF-8. .NET decodes them with U+FFFD, which names another file: a local one is skipped with
/// its real reason, a remote one on the command line is refused before anything is sent.
/// </summary>
public class NonUtf8NameTests
{
    [Fact(Timeout = 60000)]
    public async Task A_local_name_that_is_not_utf8_is_skipped_with_one_error_and_the_rest_is_sent()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "names that are not UTF-8 are a Linux file system feature");
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var up = local.Combine("up");
        await TestTrees.CreateAsync(up, new Dictionary<string, string>(StringComparer.Ordinal) { ["a.txt"] = "alpha\n" }, token);
        using var undecodable = NonUtf8Names.CreateFile(up, [(byte)'x', 0xFF, (byte)'y']);
        // A name that really holds U+FFFD is a valid name and is sent.
        await File.WriteAllTextAsync(Path.Combine(up, "real\uFFFD.txt"), "real\n", token);

        var put = await CliRunner.RunAsync(server, ["put", "-r", up, "up"], token);

        Assert.True(put.ExitCode == 7, put.ToString());
        Assert.Equal("filexfer: up/x\\ufffdy: name is not valid UTF-8; skipped", Assert.Single(put.StderrLines));
        CliAssert.NoStackTrace(put);
        Assert.Equal(["a.txt", "real\uFFFD.txt"], TestFiles.ListRelative(server.PathOf("up")));
    }

    [Fact(Timeout = 60000)]
    public async Task A_local_name_that_is_not_utf8_is_never_deleted_remotely_as_missing()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "names that are not UTF-8 are a Linux file system feature");
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var up = local.Combine("up");
        await TestTrees.CreateAsync(up, new Dictionary<string, string>(StringComparer.Ordinal) { ["a.txt"] = "alpha\n" }, token);
        using var undecodable = NonUtf8Names.CreateFile(up, [(byte)'x', 0xFF, (byte)'y']);
        // Another client may store a name with U+FFFD; this client's skipped file is not a reason to delete it.
        Directory.CreateDirectory(server.PathOf("up"));
        await File.WriteAllTextAsync(server.PathOf("up/x\uFFFDy"), "stored by another client\n", token);

        var put = await CliRunner.RunAsync(server, ["put", "-r", "--delete", up, "up"], token);

        Assert.True(put.ExitCode == 7, put.ToString());
        Assert.True(File.Exists(server.PathOf("up/x\uFFFDy")), put.ToString());
    }

    [Theory(Timeout = 60000)]
    [InlineData("put", "LOCAL", "bad\uFFFDutf8")]
    [InlineData("put", "-", "bad\uFFFDutf8")]
    [InlineData("put", "LOCAL", "dir/bad\uFFFD/")]
    [InlineData("get", "bad\uFFFDutf8", "LOCAL")]
    [InlineData("ls", "bad\uFFFDutf8")]
    [InlineData("stat", "bad\uFFFDutf8")]
    [InlineData("rm", "ok", "bad\uFFFDutf8")]
    [InlineData("hash", "bad\uFFFDutf8")]
    [InlineData("verify", "LOCAL", "bad\uFFFDutf8")]
    public async Task A_remote_path_with_a_replacement_character_is_a_usage_error_and_nothing_is_sent(params string[] arguments)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new RecordingProxy(new IPEndPoint(IPAddress.Loopback, server.Port));
        using var local = new TempDirectory();
        var file = local.Combine("o");
        await File.WriteAllTextAsync(file, "payload", token);
        var bad = arguments.Single(a => a.Contains('\uFFFD', StringComparison.Ordinal));

        var run = await CliRunner.RunAsync(proxy.Address, [.. arguments.Select(a => a == "LOCAL" ? file : a)], token);

        CliAssert.UsageError(run);
        Assert.Equal($"filexfer: invalid remote path '{bad.Replace("\uFFFD", "\\ufffd", StringComparison.Ordinal)}': not valid UTF-8 (U+FFFD)", run.StderrLines[0]);
        Assert.Empty(TestFiles.ListRelative(server.Root));
        Assert.Equal(0, proxy.Connections);
    }
}
