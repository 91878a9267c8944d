using FileXfer.Protocol.Framing;
using FileXfer.Server.Security;

namespace FileXfer.Server.Tests.Service;

/// <summary>
/// SIGHUP reloads the tokens file: a good file replaces the tokens for the authentications that follow; a bad one
/// (malformed, open to others, empty, gone) keeps the tokens in use and the log says why.
/// </summary>
public sealed class TokensReloadTests : IDisposable
{
    private const string OldSecret = "old-secret-0123456789";
    private const string NewSecret = "new-secret-0123456789";

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact(Timeout = 60000)]
    public async Task Sighup_with_a_good_file_puts_its_tokens_in_use()
    {
        var token = TestContext.Current.CancellationToken;
        var tokens = await WriteTokensAsync($"backup rw {OldSecret}\n", token);
        using var server = ServerProcess.Start("--root", _directory.CreateDirectory("root"), "--listen", "127.0.0.1:0", "--tokens", tokens);
        var endPoint = await server.WaitUntilListeningAsync(token);
        Assert.Equal(MessageType.Ok, await AuthenticateAsync(endPoint, "backup", OldSecret, token));

        await WriteTokensAsync($"backup rw {NewSecret}\nreader ro {OldSecret}\n", token);
        server.SendSigHup();
        var line = await server.WaitForLineAsync(l => l.Contains("Reloaded 2 tokens", StringComparison.Ordinal), TimeSpan.FromSeconds(20), token);

        Assert.Contains(tokens, line, StringComparison.Ordinal);
        Assert.Equal(MessageType.Ok, await AuthenticateAsync(endPoint, "backup", NewSecret, token));
        Assert.Equal(MessageType.Ok, await AuthenticateAsync(endPoint, "reader", OldSecret, token));
        server.SendSigTerm();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token));
    }

    [Fact(Timeout = 60000)]
    public async Task Sighup_with_a_malformed_file_keeps_the_old_tokens_and_says_why()
    {
        var token = TestContext.Current.CancellationToken;
        var tokens = await WriteTokensAsync($"backup rw {OldSecret}\n", token);
        using var server = ServerProcess.Start("--root", _directory.CreateDirectory("root"), "--listen", "127.0.0.1:0", "--tokens", tokens);
        var endPoint = await server.WaitUntilListeningAsync(token);

        await WriteTokensAsync($"backup rw {NewSecret}\nthis line is not a token\n", token);
        server.SendSigHup();
        var line = await server.WaitForLineAsync(l => l.Contains("Tokens not reloaded", StringComparison.Ordinal), TimeSpan.FromSeconds(20), token);

        Assert.Contains("the 1 tokens loaded before stay in use", line, StringComparison.Ordinal);
        Assert.Contains($"tokens file '{tokens}' line 2", line, StringComparison.Ordinal);
        Assert.Equal(MessageType.Ok, await AuthenticateAsync(endPoint, "backup", OldSecret, token));
        server.SendSigTerm();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token));
    }

    [Fact]
    public void A_file_open_to_others_an_empty_file_or_a_missing_file_keeps_the_old_tokens()
    {
        var path = _directory.Combine("tokens");
        File.WriteAllText(path, $"backup rw {OldSecret}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var authenticator = new TokenAuthenticator(TokensFile.Load(path), new AuthThrottle(new AuthThrottleOptions()));
        var logger = new RecordingLogger();

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.False(TokensReload.TryReload(authenticator, path, logger));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, "# every token revoked by mistake\n");
        Assert.False(TokensReload.TryReload(authenticator, path, logger));
        File.Delete(path);
        Assert.False(TokensReload.TryReload(authenticator, path, logger));

        Assert.Equal(1, authenticator.Count);
        var reasons = logger.WithEvent(51).Select(e => e.Message).ToList();
        Assert.Equal(3, reasons.Count);
        Assert.Contains("chmod 600", reasons[0], StringComparison.Ordinal);
        Assert.Contains("holds no token", reasons[1], StringComparison.Ordinal);
        Assert.Contains("cannot read tokens file", reasons[2], StringComparison.Ordinal);
    }

    private async Task<string> WriteTokensAsync(string text, CancellationToken cancellationToken)
    {
        // Written beside and renamed into place, as an operator's editor or config management does.
        var path = _directory.Combine("tokens");
        var temp = path + ".new";
        await File.WriteAllTextAsync(temp, text, cancellationToken);
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: true);
        return path;
    }

    private static async Task<MessageType> AuthenticateAsync(System.Net.IPEndPoint endPoint, string name, string secret, CancellationToken cancellationToken)
    {
        await using var client = await RawClient.ConnectAsync(endPoint, cancellationToken);
        var (answer, _, _) = await client.AuthenticateAsync(name, secret, cancellationToken);
        return answer.Type;
    }
}
