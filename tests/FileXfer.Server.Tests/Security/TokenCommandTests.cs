using FileXfer.Server.Security;

namespace FileXfer.Server.Tests.Security;

/// <summary>The command line of authentication: <c>--tokens</c> refusals and <c>token new</c>.</summary>
public sealed class TokenCommandTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact(Timeout = 30000)]
    public async Task Token_new_prints_a_tokens_file_line_with_a_fresh_secret_and_the_client_credential()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var (exitCode, stdout, stderr) = await RunAsync(["token", "new", "host1", "--access", "rw", "--subtree", "/backups/host1"], cancellationToken);
        var (_, again, _) = await RunAsync(["token", "new", "host1"], cancellationToken);

        Assert.Equal(0, exitCode);
        Assert.Empty(stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => !line.StartsWith('#')).ToArray();
        Assert.Equal(2, lines.Length);
        var entry = Assert.Single(TokensFile.Parse(lines[0], "stdout"));
        Assert.Equal(("host1", TokenAccess.ReadWrite, "backups/host1"), (entry.Name, entry.Access, entry.Subtree));
        var secret = lines[0].Split(' ')[2];
        Assert.Equal(43, secret.Length);
        Assert.Matches("^[A-Za-z0-9_-]+$", secret);
        Assert.Equal($"host1:{secret}", lines[1]);
        Assert.DoesNotContain(secret, again, StringComparison.Ordinal);
        Assert.Contains("host1 ro ", again, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Token_new_refuses_a_bad_name_with_exit_2()
    {
        var (exitCode, _, stderr) = await RunAsync(["token", "new", "bad name"], TestContext.Current.CancellationToken);

        Assert.Equal(2, exitCode);
        Assert.StartsWith("filexfer-server: token name 'bad name'", stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task A_malformed_tokens_file_stops_the_server_with_exit_2_naming_the_file_and_line()
    {
        var tokens = _directory.Combine("tokens");
        await File.WriteAllTextAsync(tokens, "# ok\nalice rw\n", TestContext.Current.CancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tokens, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var (exitCode, stdout, stderr) = await RunAsync(["--root", _directory.CreateDirectory("root"), "--listen", "127.0.0.1:0", "--tokens", tokens], TestContext.Current.CancellationToken);

        Assert.Equal(2, exitCode);
        Assert.Empty(stdout);
        Assert.Equal($"filexfer-server: tokens file '{tokens}' line 2: expected NAME ACCESS SECRET, found 2 words\n", stderr);
    }

    [Fact(Timeout = 30000)]
    public async Task A_tokens_file_others_can_read_stops_the_server_with_exit_2()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix permissions");
        var tokens = _directory.Combine("tokens");
        await File.WriteAllTextAsync(tokens, "alice rw secret-secret-secret\n", TestContext.Current.CancellationToken);
        File.SetUnixFileMode(tokens, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var (exitCode, stdout, stderr) = await RunAsync(["--root", _directory.CreateDirectory("root"), "--listen", "127.0.0.1:0", "--tokens", tokens], TestContext.Current.CancellationToken);

        Assert.Equal(2, exitCode);
        Assert.Empty(stdout);
        Assert.Contains("readable or writable by group or others (mode 0644); run chmod 600", stderr, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var command = ServerCommand.Create(stdout, stderr);
        int exitCode = await command.Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = stdout, Error = stderr }, cancellationToken);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }
}
