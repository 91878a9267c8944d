using System.Text;
using FileXfer.Client.Cli;
using FileXfer.Client.Resilience;
using FileXfer.Client.Tests.Faults;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Net;

namespace FileXfer.Client.Tests;

/// <summary>The client against a server that requires tokens: credentials, exit code 6, no retries, no secret on the wire.</summary>
public sealed class AuthenticationCliTests : IDisposable
{
    private readonly TempDirectory _local = new();

    public void Dispose() => _local.Dispose();

    [Fact(Timeout = 60000)]
    public async Task A_good_token_from_a_token_file_puts_and_gets()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        var tokenFile = AuthTestServer.WriteTokenFile(_local, "writer", AuthTestServer.WriterSecret);
        var source = _local.Combine("a.txt");
        await File.WriteAllTextAsync(source, "hello", token);

        var put = await CliRunner.RunAsync(server, ["--token-file", tokenFile, "put", source, "docs/a.txt"], token);
        var get = await CliRunner.RunAsync(server, ["get", "docs/a.txt", _local.Combine("copy.txt"), "--token-file", tokenFile], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.Equal("hello", await File.ReadAllTextAsync(_local.Combine("copy.txt"), token));
    }

    [Fact(Timeout = 60000)]
    public async Task A_good_token_from_the_environment_works()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();

        var result = await CliRunner.RunAsync(
            ["--retries", "0", "--server", server.Address, "ls"],
            new Dictionary<string, string> { [GlobalOptions.TokenVariable] = $"writer:{AuthTestServer.WriterSecret}\n" },
            isErrorTerminal: false,
            token);

        CliAssert.Success(result);
    }

    [Fact(Timeout = 60000)]
    public async Task A_wrong_secret_exits_6_with_authentication_failed()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        var tokenFile = AuthTestServer.WriteTokenFile(_local, "writer", AuthTestServer.ReaderSecret);

        var result = await CliRunner.RunAsync(server, ["--token-file", tokenFile, "ls"], token);

        var line = CliAssert.OneErrorLine(result, 6);
        Assert.StartsWith("filexfer: authentication failed as 'writer': ", line, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task An_unknown_token_name_exits_6_with_authentication_failed()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        var tokenFile = AuthTestServer.WriteTokenFile(_local, "stranger", AuthTestServer.WriterSecret);

        var result = await CliRunner.RunAsync(server, ["--token-file", tokenFile, "ls"], token);

        Assert.StartsWith("filexfer: authentication failed as 'stranger': ", CliAssert.OneErrorLine(result, 6), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task No_token_for_a_server_that_requires_one_exits_6_and_says_how_to_give_one()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();

        var result = await CliRunner.RunAsync(server, ["ls"], token);

        Assert.Equal("filexfer: the server requires a token (--token-file or FILEXFER_TOKEN)", CliAssert.OneErrorLine(result, 6));
    }

    [Fact(Timeout = 60000)]
    public async Task A_read_only_token_cannot_put_or_rm_exit_6_but_can_get_ls_stat_and_hash()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        await File.WriteAllTextAsync(server.PathOf("kept.txt"), "abc", token);
        var tokenFile = AuthTestServer.WriteTokenFile(_local, "reader", AuthTestServer.ReaderSecret);
        var source = _local.Combine("a.txt");
        await File.WriteAllTextAsync(source, "hello", token);

        var put = await CliRunner.RunAsync(server, ["--token-file", tokenFile, "put", source, "a.txt"], token);
        var rm = await CliRunner.RunAsync(server, ["--token-file", tokenFile, "rm", "kept.txt"], token);

        Assert.Contains("permission denied", CliAssert.OneErrorLine(put, 6), StringComparison.Ordinal);
        Assert.Contains("permission denied", CliAssert.OneErrorLine(rm, 6), StringComparison.Ordinal);
        Assert.False(File.Exists(server.PathOf("a.txt")));
        Assert.True(File.Exists(server.PathOf("kept.txt")));
        foreach (var args in new[] { new[] { "ls" }, ["stat", "kept.txt"], ["hash", "kept.txt"], ["get", "kept.txt", _local.Combine("kept.txt")] })
        {
            CliAssert.Success(await CliRunner.RunAsync(server, ["--token-file", tokenFile, .. args], token));
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_read_only_token_is_refused_at_once_for_a_tree_put_or_several_rm_with_exit_6()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        Directory.CreateDirectory(server.PathOf("tree"));
        await File.WriteAllTextAsync(server.PathOf("x.txt"), "x", token);
        await File.WriteAllTextAsync(server.PathOf("y.txt"), "y", token);
        var tokenFile = AuthTestServer.WriteTokenFile(_local, "reader", AuthTestServer.ReaderSecret);
        var tree = Directory.CreateDirectory(_local.Combine("tree")).FullName;
        await File.WriteAllTextAsync(Path.Combine(tree, "a.txt"), "a", token);
        await File.WriteAllTextAsync(Path.Combine(tree, "b.txt"), "b", token);

        var put = await CliRunner.RunAsync(server, ["--token-file", tokenFile, "put", "-r", tree, "tree"], token);
        var rm = await CliRunner.RunAsync(server, ["--token-file", tokenFile, "rm", "x.txt", "y.txt"], token);

        Assert.Equal("filexfer: permission denied: this token is read-only, put is not allowed", CliAssert.OneErrorLine(put, 6));
        Assert.Equal("filexfer: permission denied: this token is read-only, rm is not allowed", CliAssert.OneErrorLine(rm, 6));
        Assert.Empty(Directory.GetFileSystemEntries(server.PathOf("tree")));
        Assert.True(File.Exists(server.PathOf("x.txt")));
    }

    [Fact(Timeout = 60000)]
    public async Task A_token_file_others_can_read_is_refused_with_exit_6_before_connecting()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix permissions");
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        var tokenFile = AuthTestServer.WriteTokenFile(_local, "writer", AuthTestServer.WriterSecret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var result = await CliRunner.RunAsync(server, ["--token-file", tokenFile, "ls"], token);

        Assert.Equal($"filexfer: token file '{tokenFile}' is readable or writable by group or others; run chmod 600 on it", CliAssert.OneErrorLine(result, 6));
        Assert.DoesNotContain(server.Log.Entries, e => e.Message.Contains("opened", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60000)]
    public async Task A_failed_authentication_is_not_retried()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        var tokenFile = AuthTestServer.WriteTokenFile(_local, "writer", AuthTestServer.ReaderSecret);

        var result = await CliRunner.RunAsync(server, ["--retries", "3", "--token-file", tokenFile, "ls"], token);

        CliAssert.OneErrorLine(result, 6);
        Assert.Single(server.Log.Entries, e => e.Message.Contains("authentication failed", StringComparison.Ordinal));
        Assert.False(TransferRetry.IsTransient(new FileXferException(ErrorCode.AuthenticationFailed, "authentication failed")));
    }

    [Fact(Timeout = 60000)]
    public async Task A_server_that_cannot_prove_it_knows_the_token_is_not_trusted_exit_6()
    {
        var token = TestContext.Current.CancellationToken;
        await using var impostor = new HostileServer(
            (connection, request, ct) => request.Type == MessageType.Authenticate
                ? connection.Writer.WriteAsync(Messages.AuthenticateOk(new byte[32], AccessFlags.Write), ct).AsTask()
                : Task.FromException(new InvalidOperationException($"the client sent {request.Type} to a server it could not trust")),
            Capabilities.Authentication);
        var tokenFile = AuthTestServer.WriteTokenFile(_local, "writer", AuthTestServer.WriterSecret);

        var result = await CliRunner.RunAsync(impostor.Address, ["--token-file", tokenFile, "ls"], token);

        Assert.Equal("filexfer: the server could not prove it knows the token", CliAssert.OneErrorLine(result, 6));
        Assert.Equal(1, impostor.Requests);
    }

    [Fact(Timeout = 60000)]
    public async Task A_token_given_to_a_server_that_does_not_ask_for_one_is_never_sent()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new RecordingProxy(server);
        var tokenFile = AuthTestServer.WriteTokenFile(_local, "writer", AuthTestServer.WriterSecret);

        var result = await CliRunner.RunAsync(proxy.Address, ["--token-file", tokenFile, "ls"], token);

        CliAssert.Success(result);
        Assert.Empty(result.Stderr);
        Assert.False(Contains(proxy.Everything, "writer"u8.ToArray()), "nothing of the token should be sent to a server that did not ask");
        AssertSecretAbsent(proxy.Everything, AuthTestServer.WriterSecret);
    }

    [Fact(Timeout = 60000)]
    public async Task Through_a_recording_proxy_the_token_name_crosses_the_wire_but_the_secret_never_does()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        await using var proxy = new RecordingProxy(server);
        var tokenFile = AuthTestServer.WriteTokenFile(_local, "writer", AuthTestServer.WriterSecret);
        var source = _local.Combine("a.txt");
        await File.WriteAllTextAsync(source, "some content", token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--token-file", tokenFile, "put", source, "a.txt"], token);
        var get = await CliRunner.RunAsync(proxy.Address, ["--token-file", tokenFile, "get", "a.txt", _local.Combine("b.txt")], token);
        var wrong = await CliRunner.RunAsync(
            ["--retries", "0", "--server", proxy.Address, "ls"],
            new Dictionary<string, string> { [GlobalOptions.TokenVariable] = $"reader:{AuthTestServer.WriterSecret}" },
            isErrorTerminal: false,
            token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        CliAssert.OneErrorLine(wrong, 6);
        var captured = proxy.Everything;
        // The capture works: the token names and the file's content are in it.
        Assert.True(Contains(captured, "writer"u8.ToArray()), "the token name should be in the capture");
        Assert.True(Contains(captured, "reader"u8.ToArray()), "the second token name should be in the capture");
        Assert.True(Contains(proxy.ClientToServer, "some content"u8.ToArray()), "the file content should be in the capture");
        AssertSecretAbsent(captured, AuthTestServer.WriterSecret);
    }

    [Fact(Timeout = 60000)]
    public async Task Through_a_recording_proxy_with_tls_neither_the_token_nor_the_content_crosses_the_wire()
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = AuthTestServer.Start(certificate);
        await using var proxy = new RecordingProxy(server);
        var tokenFile = AuthTestServer.WriteTokenFile(_local, "writer", AuthTestServer.WriterSecret);
        var source = _local.Combine("jewels.txt");
        const string Content = "the crown jewels, distinctive content 7f3a9c";
        await File.WriteAllTextAsync(source, Content, token);
        string[] tls = ["--pin", TestCertificates.Fingerprint(certificate), "--token-file", tokenFile];

        var put = await CliRunner.RunAsync(proxy.Address, [.. tls, "put", source, "jewels.txt"], token);
        var get = await CliRunner.RunAsync(proxy.Address, [.. tls, "get", "jewels.txt", _local.Combine("back.txt")], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.Equal(Content, await File.ReadAllTextAsync(_local.Combine("back.txt"), token));
        var captured = proxy.Everything;
        Assert.True(proxy.ClientToServer.Length > 1000 && proxy.ServerToClient.Length > 1000, "the capture should hold the TLS sessions");
        Assert.False(Contains(captured, Encoding.UTF8.GetBytes(Content)), "the file content must not cross the wire in clear");
        Assert.False(Contains(captured, "jewels.txt"u8.ToArray()), "the file name must not cross the wire in clear");
        Assert.False(Contains(captured, "writer"u8.ToArray()), "with TLS even the token name is hidden");
        Assert.False(Contains(captured, "FXFR"u8.ToArray()), "nothing of FileXfer is sent in clear");
        AssertSecretAbsent(captured, AuthTestServer.WriterSecret);
    }

    [Fact(Timeout = 60000)]
    public async Task The_library_reports_the_access_the_token_was_granted()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        var endPoint = new HostPort("127.0.0.1", server.Port);

        await using var writer = await FileXferClient.ConnectAsync(endPoint, new FileXferClientOptions { Credential = new FileXferCredential("writer", AuthTestServer.WriterSecret) }, token);
        await using var reader = await FileXferClient.ConnectAsync(endPoint, new FileXferClientOptions { Credential = new FileXferCredential("reader", AuthTestServer.ReaderSecret) }, token);
        // The challenge's Ok is read with the first answer, or here: until then nothing it grants is claimed.
        await writer.WhenAuthenticatedAsync(token);
        await reader.WhenAuthenticatedAsync(token);

        Assert.True(writer.IsAuthenticated);
        Assert.Equal(AccessFlags.Write, writer.Access);
        Assert.True(reader.IsAuthenticated);
        Assert.Equal(AccessFlags.None, reader.Access);
        Assert.Equal("writer", new FileXferCredential("writer", AuthTestServer.WriterSecret).ToString());
    }

    private static void AssertSecretAbsent(byte[] captured, string secret)
    {
        var bytes = Encoding.UTF8.GetBytes(secret);
        string[] forms =
        [
            secret,
            Convert.ToBase64String(bytes),
            Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
            Convert.ToHexStringLower(bytes),
            Convert.ToHexString(bytes),
            // A long enough piece of the secret, in case it were sent split or truncated.
            secret[..12],
        ];
        foreach (var form in forms)
        {
            Assert.False(Contains(captured, Encoding.ASCII.GetBytes(form)), $"the secret crossed the wire as '{form}'");
        }

        Assert.False(Contains(captured, Encoding.Unicode.GetBytes(secret)), "the secret crossed the wire as UTF-16");
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
