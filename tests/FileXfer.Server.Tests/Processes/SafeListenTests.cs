namespace FileXfer.Server.Tests.Processes;

/// <summary>
/// Secure by default: a server that other machines can reach must be told who may use it (--tokens), or be told
/// explicitly that anyone may (--allow-anonymous); on loopback it serves anonymously as before.
/// </summary>
public sealed class SafeListenTests : IDisposable
{
    private readonly TempDirectory _parent = new();

    public void Dispose() => _parent.Dispose();

    [Theory(Timeout = 60000)]
    [InlineData("0.0.0.0:0")]
    [InlineData("[::]:0")]
    public async Task A_reachable_address_without_tokens_is_refused_with_exit_2_and_the_fix(string listen)
    {
        var token = TestContext.Current.CancellationToken;
        using var server = ServerProcess.Start("--root", _parent.CreateDirectory("root"), "--listen", listen);

        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(server.StandardError);
        Assert.StartsWith("filexfer-server: refusing to listen on ", line, StringComparison.Ordinal);
        Assert.Contains("without --tokens", line, StringComparison.Ordinal);
        Assert.Contains("--allow-anonymous", line, StringComparison.Ordinal);
        Assert.Empty(server.StandardOutput);
    }

    [Fact(Timeout = 60000)]
    public async Task Allow_anonymous_serves_a_reachable_address_and_warns_about_plaintext()
    {
        var token = TestContext.Current.CancellationToken;
        using var server = ServerProcess.Start("--root", _parent.CreateDirectory("root"), "--listen", "0.0.0.0:0", "--allow-anonymous");

        await server.WaitForLineAsync(l => l.StartsWith("listening on 0.0.0.0:", StringComparison.Ordinal), TimeSpan.FromSeconds(20), token);

        Assert.Contains(server.StandardError, l => l.Contains("warning: listening on 0.0.0.0:", StringComparison.Ordinal) && l.Contains("without --tls", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60000)]
    public async Task Tokens_serve_a_reachable_address()
    {
        var token = TestContext.Current.CancellationToken;
        var tokens = Path.Combine(_parent.CreateDirectory("config"), "tokens");
        await File.WriteAllTextAsync(tokens, "backup rw s3cret-s3cret-s3cret-1234\n", token);
        File.SetUnixFileMode(tokens, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var server = ServerProcess.Start("--root", _parent.CreateDirectory("root"), "--listen", "0.0.0.0:0", "--tokens", tokens);

        await server.WaitForLineAsync(l => l.StartsWith("listening on 0.0.0.0:", StringComparison.Ordinal), TimeSpan.FromSeconds(20), token);

        Assert.DoesNotContain(server.StandardError, l => l.Contains("refusing", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60000)]
    public async Task Loopback_without_tokens_serves_without_a_warning()
    {
        var token = TestContext.Current.CancellationToken;
        using var server = ServerProcess.Start("--root", _parent.CreateDirectory("root"), "--listen", "127.0.0.1:0");

        await server.WaitUntilListeningAsync(token);

        Assert.DoesNotContain(server.StandardError, l => l.Contains("warning", StringComparison.Ordinal) || l.Contains("refusing", StringComparison.Ordinal));
    }
}
