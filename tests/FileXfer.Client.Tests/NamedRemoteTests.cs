namespace FileXfer.Client.Tests;

/// <summary>
/// Named remotes from the client's configuration file: <c>NAME:path</c> and <c>--remote NAME</c> take the remote's
/// address, token file and settings; options on the command line override them; a colon in a path that names no
/// remote is part of the path; every problem of the file is one line and exit 2.
/// </summary>
public sealed class NamedRemoteTests : IDisposable
{
    private readonly TempDirectory _local = new();

    public void Dispose() => _local.Dispose();

    [Fact(Timeout = 60000)]
    public async Task Name_colon_path_reaches_the_remote_with_its_token_and_algorithm()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        AuthTestServer.WriteTokenFile(_local, "writer", AuthTestServer.WriterSecret);
        var environment = WriteConfig($"""
            # the office backup server
            [office]
            server = {server.Address}
            token-file = writer.token
            algorithm = xxh128
            retries = 0

            [other]
            server = 127.0.0.1:1
            """);
        var source = _local.Combine("backup.tar");
        await File.WriteAllTextAsync(source, "tarball", token);

        var put = await CliRunner.RunAsync(["put", source, "office:nightly/"], environment, isErrorTerminal: false, token);
        var get = await CliRunner.RunAsync(["get", "office:nightly/backup.tar", _local.Combine("copy.tar")], environment, isErrorTerminal: false, token);
        var list = await CliRunner.RunAsync(["ls", "--remote", "office", "nightly"], environment, isErrorTerminal: false, token);
        var root = await CliRunner.RunAsync(["ls", "office:"], environment, isErrorTerminal: false, token);

        CliAssert.Success(put);
        Assert.StartsWith("stored nightly/backup.tar (7 B, xxh128 ", put.Stdout, StringComparison.Ordinal);
        CliAssert.Success(get);
        Assert.Equal("tarball", await File.ReadAllTextAsync(_local.Combine("copy.tar"), token));
        Assert.Equal(["backup.tar"], list.StdoutLines);
        Assert.Equal(["nightly/"], root.StdoutLines);
    }

    [Fact(Timeout = 60000)]
    public async Task Options_on_the_command_line_override_the_remote_s_settings()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        // The remote's own address refuses connections: only --server can make the command work.
        var environment = WriteConfig("[office]\nserver = 127.0.0.1:1\nalgorithm = blake3\n");
        var source = _local.Combine("a.txt");
        await File.WriteAllTextAsync(source, "hello", token);

        var put = await CliRunner.RunAsync(["--server", server.Address, "put", source, "office:docs/", "--algorithm", "sha256"], environment, isErrorTerminal: false, token);
        var refused = await CliRunner.RunAsync(["put", source, "office:docs/"], environment, isErrorTerminal: false, token);

        CliAssert.Success(put);
        Assert.StartsWith("stored docs/a.txt (5 B, sha256 ", put.Stdout, StringComparison.Ordinal);
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("127.0.0.1:1", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task A_colon_in_a_path_that_names_no_remote_is_part_of_the_path()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var environment = WriteConfig("[office]\nserver = 127.0.0.1:1\n");
        environment["FILEXFER_SERVER"] = server.Address;
        var source = _local.Combine("a.txt");
        await File.WriteAllTextAsync(source, "hello", token);

        var put = await CliRunner.RunAsync(["put", source, "notes:2024.txt"], environment, isErrorTerminal: false, token);
        var withoutConfig = await CliRunner.RunAsync(["--server", server.Address, "stat", "notes:2024.txt"], token);

        CliAssert.Success(put);
        Assert.True(File.Exists(server.PathOf("notes:2024.txt")));
        CliAssert.Success(withoutConfig);
    }

    [Fact(Timeout = 60000)]
    public async Task An_unknown_remote_or_two_remotes_are_usage_errors()
    {
        var token = TestContext.Current.CancellationToken;
        var environment = WriteConfig("[office]\nserver = 127.0.0.1:1\n[home]\nserver = 127.0.0.1:2\n");
        var source = _local.Combine("a.txt");
        await File.WriteAllTextAsync(source, "hello", token);

        var unknown = await CliRunner.RunAsync(["ls", "--remote", "attic"], environment, isErrorTerminal: false, token);
        var two = await CliRunner.RunAsync(["--remote", "home", "put", source, "office:a.txt"], environment, isErrorTerminal: false, token);
        var noFile = await CliRunner.RunAsync(["ls", "--remote", "office"], token);

        Assert.Equal($"filexfer: unknown remote 'attic' in {_local.Combine("client.conf")} (defined: home, office)", CliAssert.OneErrorLine(unknown, 2));
        Assert.Equal("filexfer: one command talks to one server, but remotes 'office' and 'home' are named", CliAssert.OneErrorLine(two, 2));
        Assert.StartsWith("filexfer: --remote needs a configuration file", CliAssert.OneErrorLine(noFile, 2), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task Each_problem_of_the_file_is_one_line_and_exit_2()
    {
        var token = TestContext.Current.CancellationToken;
        var environment = WriteConfig("""
            server = 127.0.0.1:7070
            [office]
            server = nowhere
            tls = maybe
            pin = 12:34
            algorithm = md5
            retries = 101
            timeout = 0
            colour = blue
            [bad name]
            [office]
            """);

        var result = await CliRunner.RunAsync(["ls", "office:"], environment, isErrorTerminal: false, token);

        var file = _local.Combine("client.conf");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"filexfer: {file} line 3: server: ", result.StderrLines[1], StringComparison.Ordinal);
        Assert.Equal(
            [
                $"filexfer: {file} line 1: 'server' is outside of a remote; start one with [NAME]",
                result.StderrLines[1],
                $"filexfer: {file} line 4: tls: 'maybe' is not true or false",
                $"filexfer: {file} line 5: pin: '12:34' is not a SHA-256 fingerprint (64 hex digits, colons allowed)",
                $"filexfer: {file} line 6: algorithm: 'md5' is not one of sha256, xxh128, blake3",
                $"filexfer: {file} line 7: retries: '101' is not a whole number from 0 to 100",
                $"filexfer: {file} line 8: timeout: '0' is not a number of seconds from 0 to 1000000",
                $"filexfer: {file} line 9: unknown key 'colour' (the keys are server, token-file, tls, pin, known-hosts, tls-no-tofu, algorithm, retries, connect-timeout, timeout, bwlimit)",
                $"filexfer: {file} line 10: '[bad name]' is not a remote's heading: [NAME], NAME of letters, digits, '.', '_' and '-'",
                $"filexfer: {file} line 11: remote 'office' is defined twice",
            ],
            result.StderrLines);
    }

    [Fact]
    public void The_example_config_file_parses_without_a_problem()
    {
        string? example = null;
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null && example is null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "packaging", "examples", "client.conf");
            example = File.Exists(candidate) ? candidate : null;
        }

        Assert.NotNull(example);
        var (remotes, problems) = FileXfer.Client.Cli.Remotes.ClientConfigFile.Parse(File.ReadAllText(example), example, "/home/me");

        Assert.Empty(problems);
        Assert.Equal(["laptop", "office"], remotes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("/home/me/.config/filexfer/office.token", remotes["office"].TokenFile);
        Assert.Equal(5, remotes["office"].Retries);
    }

    private Dictionary<string, string> WriteConfig(string text)
    {
        var path = _local.Combine("client.conf");
        File.WriteAllText(path, text);
        return new Dictionary<string, string> { ["FILEXFER_CONFIG"] = path, ["HOME"] = _local.Path };
    }
}
