using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using FileXfer.Client.Resilience;
using FileXfer.Client.Tests.Faults;

namespace FileXfer.Client.Tests;

/// <summary>
/// TLS from the command line against the real server over loopback: each way of trusting the server, each way of
/// refusing it, and that nothing readable crosses the wire.
/// </summary>
public class TlsTests
{
    [Fact(Timeout = 60000)]
    public async Task The_client_and_the_server_negotiate_tls_1_3_whose_handshake_takes_one_round_trip()
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = new TestServer(certificate);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, server.Port, token);

        await using var tls = await FileXfer.Client.Tls.TlsConnector.ConnectAsync(
            new NetworkStream(socket, ownsSocket: false), new FileXfer.Protocol.Net.HostPort("127.0.0.1", server.Port),
            new FileXfer.Client.Tls.ClientTlsOptions { PinnedFingerprint = TestCertificates.Fingerprint(certificate) }, token);

        Assert.Equal(SslProtocols.Tls13, tls.SslProtocol);
    }

    [Fact(Timeout = 60000)]
    public async Task Put_and_get_over_tls_round_trip_and_match_by_hash()
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = new TestServer(certificate);
        using var local = new TempDirectory();
        var source = local.Combine("source.bin");
        var copy = local.Combine("copy.bin");
        await TestFiles.WriteRandomAsync(source, 3 * 1024 * 1024 + 17, seed: 7, token);
        string[] tls = ["--pin", TestCertificates.Fingerprint(certificate)];

        var put = await CliRunner.RunAsync(server, [.. tls, "put", source, "data/file.bin"], token);
        var get = await CliRunner.RunAsync(server, [.. tls, "get", "data/file.bin", copy], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        var expected = await TestFiles.Sha256HexAsync(source, token);
        Assert.Equal(expected, await TestFiles.Sha256HexAsync(server.PathOf("data/file.bin"), token));
        Assert.Equal(expected, await TestFiles.Sha256HexAsync(copy, token));
        Assert.Contains(expected, put.Stdout, StringComparison.Ordinal);
        Assert.Empty(put.Stderr);
        Assert.Empty(get.Stderr);
    }

    [Fact(Timeout = 60000)]
    public async Task A_matching_pin_is_accepted_in_any_spelling_without_a_known_hosts_file()
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = new TestServer(certificate);
        using var local = new TempDirectory();
        var knownHosts = local.Combine("known_hosts");
        var plain = TestCertificates.Fingerprint(certificate).Replace(":", string.Empty, StringComparison.Ordinal).ToLowerInvariant();

        var ls = await CliRunner.RunAsync(server, ["--pin", plain, "--known-hosts", knownHosts, "ls"], token);

        CliAssert.Success(ls);
        Assert.Empty(ls.Stderr);
        Assert.False(File.Exists(knownHosts), "a pinned server is not recorded");
    }

    [Fact(Timeout = 60000)]
    public async Task A_pin_mismatch_exits_6_and_stores_nothing()
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        using var other = TestCertificates.Create();
        await using var server = new TestServer(certificate);
        using var local = new TempDirectory();
        var source = local.Combine("a.txt");
        await File.WriteAllTextAsync(source, "pinned", token);

        var put = await CliRunner.RunAsync(server, ["--retries", "2", "--pin", TestCertificates.Fingerprint(other), "put", source, "a.txt"], token);

        var line = CliAssert.OneErrorLine(put, 6);
        Assert.Contains("does not match the pinned fingerprint", line, StringComparison.Ordinal);
        Assert.Contains(TestCertificates.Fingerprint(certificate), line, StringComparison.Ordinal);
        Assert.False(File.Exists(server.PathOf("a.txt")));
    }

    [Fact(Timeout = 60000)]
    public async Task Trust_on_first_use_records_the_server_then_accepts_it_quietly()
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = new TestServer(certificate);
        using var local = new TempDirectory();
        var knownHosts = local.Combine("config", "filexfer", "known_hosts");
        var environment = new Dictionary<string, string> { ["XDG_CONFIG_HOME"] = local.Combine("config") };

        var first = await CliRunner.RunAsync(["--server", server.Address, "--tls", "--quiet", "ls"], environment, isErrorTerminal: false, token);
        var second = await CliRunner.RunAsync(["--server", server.Address, "--tls", "ls"], environment, isErrorTerminal: false, token);

        var note = CliAssert.OneErrorLine(first, 0);
        Assert.Equal($"filexfer: trusting new server {server.Address} (TLS certificate SHA-256 {TestCertificates.Fingerprint(certificate)}), recorded in {knownHosts}", note);
        Assert.Equal([$"{server.Address} {TestCertificates.Fingerprint(certificate)}"], await File.ReadAllLinesAsync(knownHosts, token));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(knownHosts));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(knownHosts)!));
        }

        CliAssert.Success(second);
        Assert.Empty(second.Stderr);
    }

    [Fact(Timeout = 60000)]
    public async Task Parallel_connections_of_one_run_record_a_new_server_once()
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = new TestServer(certificate);
        using var local = new TempDirectory();
        var tree = Directory.CreateDirectory(local.Combine("tree")).FullName;
        for (int i = 0; i < 8; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(tree, $"f{i}.txt"), $"file {i}", token);
        }

        var knownHosts = local.Combine("known_hosts");
        var put = await CliRunner.RunAsync(server, ["--tls", "--known-hosts", knownHosts, "--quiet", "put", "-r", "-P", "4", tree, "backup"], token);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.Single(await File.ReadAllLinesAsync(knownHosts, token));
        Assert.Single(put.StderrLines, line => line.StartsWith("filexfer: trusting new server", StringComparison.Ordinal));
        Assert.Equal(8, Directory.GetFiles(server.PathOf("backup")).Length);
    }

    [Fact(Timeout = 60000)]
    public async Task A_changed_certificate_fails_loudly_with_exit_6_without_retries_and_transfers_nothing()
    {
        var token = TestContext.Current.CancellationToken;
        using var recorded = TestCertificates.Create();
        using var impostor = TestCertificates.Create();
        await using var server = new TestServer(impostor);
        await using var proxy = new RecordingProxy(new IPEndPoint(IPAddress.Loopback, server.Port));
        using var local = new TempDirectory();
        var knownHosts = local.Combine("known_hosts");
        await File.WriteAllLinesAsync(knownHosts, ["# servers", "backup-host:7070 " + TestCertificates.Fingerprint(impostor), $"{proxy.Address} {TestCertificates.Fingerprint(recorded)}"], token);
        var source = local.Combine("secret.txt");
        await File.WriteAllTextAsync(source, "the crown jewels", token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "3", "--tls", "--known-hosts", knownHosts, "put", source, "secret.txt"], token);

        Assert.True(put.ExitCode == 6, put.ToString());
        CliAssert.NoStackTrace(put);
        Assert.All(put.StderrLines, line => Assert.StartsWith("filexfer: ", line, StringComparison.Ordinal));
        Assert.Contains($"filexfer: WARNING: the TLS certificate of {proxy.Address} has CHANGED!", put.StderrLines);
        Assert.Contains($"filexfer: expected SHA-256 {TestCertificates.Fingerprint(recorded)}", put.StderrLines);
        Assert.Contains($"filexfer: got      SHA-256 {TestCertificates.Fingerprint(impostor)}", put.StderrLines);
        Assert.Contains($"remove line 3 of {knownHosts}", put.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("retry", put.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, proxy.Connections);
        Assert.False(File.Exists(server.PathOf("secret.txt")));
        Assert.DoesNotContain(server.Log.Entries, entry => entry.Message.Contains("protocol version", StringComparison.Ordinal));
        Assert.Equal(3, (await File.ReadAllLinesAsync(knownHosts, token)).Length);
    }

    [Theory(Timeout = 60000)]
    [InlineData(" nothex")]
    [InlineData("")]
    [InlineData(" AB:CD")]
    public async Task A_broken_known_hosts_line_for_the_server_fails_closed_with_exit_6_and_records_nothing(string rest)
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = new TestServer(certificate);
        await using var proxy = new RecordingProxy(new IPEndPoint(IPAddress.Loopback, server.Port));
        using var local = new TempDirectory();
        var knownHosts = local.Combine("known_hosts");
        // A broken line for another server is ignored; the one for this server is not.
        string[] lines = ["# servers", "backup-host:7070 garbage", proxy.Address + rest];
        await File.WriteAllLinesAsync(knownHosts, lines, token);
        var source = local.Combine("a.txt");
        await File.WriteAllTextAsync(source, "not for an unverified server", token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "2", "--tls", "--known-hosts", knownHosts, "put", source, "a.txt"], token);

        var line = CliAssert.OneErrorLine(put, 6);
        Assert.Equal($"filexfer: known hosts file '{knownHosts}' line 3 for {proxy.Address} is not a valid fingerprint; fix or remove it", line);
        Assert.Equal(1, proxy.Connections);
        Assert.False(File.Exists(server.PathOf("a.txt")));
        Assert.Equal(lines, await File.ReadAllLinesAsync(knownHosts, token));
    }

    [Fact(Timeout = 60000)]
    public async Task Without_trust_on_first_use_an_unknown_self_signed_server_is_refused()
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = new TestServer(certificate);
        using var local = new TempDirectory();
        var knownHosts = local.Combine("known_hosts");

        var ls = await CliRunner.RunAsync(server, ["--tls", "--tls-no-tofu", "--known-hosts", knownHosts, "ls"], token);

        var line = CliAssert.OneErrorLine(ls, 6);
        Assert.Contains("is not trusted", line, StringComparison.Ordinal);
        Assert.False(File.Exists(knownHosts));
    }

    [Fact(Timeout = 60000)]
    public async Task A_plaintext_client_to_a_tls_server_is_told_to_use_tls()
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = new TestServer(certificate);

        var ls = await CliRunner.RunAsync(server, ["--retries", "2", "ls"], token);

        Assert.Equal("filexfer: server: this server requires TLS (use --tls)", CliAssert.OneErrorLine(ls, 6));
    }

    [Fact(Timeout = 60000)]
    public async Task A_tls_client_to_a_plaintext_server_fails_with_exit_3_and_never_speaks_plaintext()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new RecordingProxy(new IPEndPoint(IPAddress.Loopback, server.Port));
        using var local = new TempDirectory();
        var source = local.Combine("a.txt");
        await File.WriteAllTextAsync(source, "only over tls", token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "2", "--tls", "--known-hosts", local.Combine("known_hosts"), "put", source, "a.txt"], token);

        var line = CliAssert.OneErrorLine(put, 3);
        Assert.Equal($"filexfer: cannot connect to {proxy.Address}: the server did not answer TLS (is it started with --tls?)", line);
        var sent = proxy.ClientToServer;
        Assert.NotEmpty(sent);
        Assert.Equal(0x16, sent[0]);
        Assert.True(sent.AsSpan().IndexOf("FXFR"u8) < 0, "the client sent the FileXfer magic in clear");
        Assert.Equal(1, proxy.Connections);
        Assert.False(File.Exists(server.PathOf("a.txt")));
    }

    [Theory(Timeout = 60000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Through_a_recording_proxy_neither_content_nor_names_are_visible_with_tls(bool tls)
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = tls ? new TestServer(certificate) : new TestServer();
        await using var proxy = new RecordingProxy(new IPEndPoint(IPAddress.Loopback, server.Port));
        using var local = new TempDirectory();
        const string Content = "TOP-SECRET-PAYLOAD-7f3a9c: the quarterly numbers nobody may read on the wire";
        const string Name = "confidential-merger-plan.txt";
        var source = local.Combine("source.txt");
        var copy = local.Combine("copy.txt");
        await File.WriteAllTextAsync(source, string.Concat(Enumerable.Repeat(Content + "\n", 500)), token);
        string[] options = tls ? ["--pin", TestCertificates.Fingerprint(certificate)] : [];

        var put = await CliRunner.RunAsync(proxy.Address, [.. options, "put", source, "vault/" + Name], token);
        var get = await CliRunner.RunAsync(proxy.Address, [.. options, "get", "vault/" + Name, copy], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.True(await TestFiles.ContentEqualsAsync(source, copy, token));
        Assert.True(proxy.ClientToServer.Length > 20_000 && proxy.ServerToClient.Length > 20_000, "the proxy recorded the transfers");
        var content = Encoding.UTF8.GetBytes(Content);
        var name = Encoding.UTF8.GetBytes(Name);
        if (tls)
        {
            Assert.False(proxy.Saw(content), "the file content crossed the wire readable");
            Assert.False(proxy.Saw(name), "the file name crossed the wire readable");
            Assert.False(proxy.Saw("FXFR"u8), "the FileXfer magic crossed the wire readable");
        }
        else
        {
            // The control: without TLS the same capture shows everything, so the assertions above can fail.
            Assert.True(proxy.Saw(content));
            Assert.True(proxy.Saw(name));
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_pin_that_is_not_a_fingerprint_is_a_usage_error()
    {
        var result = await CliRunner.RunAsync("127.0.0.1:9", ["--pin", "AB:CD", "ls"], TestContext.Current.CancellationToken);

        CliAssert.UsageError(result);
        Assert.Contains("--pin", result.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task FILEXFER_TLS_turns_tls_on()
    {
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = new TestServer(certificate);
        using var local = new TempDirectory();
        var environment = new Dictionary<string, string> { ["FILEXFER_TLS"] = "1" };

        var ls = await CliRunner.RunAsync(["--server", server.Address, "--known-hosts", local.Combine("kh"), "ls"], environment, isErrorTerminal: false, token);

        Assert.Equal(0, ls.ExitCode);
        Assert.StartsWith("filexfer: trusting new server", CliAssert.OneErrorLine(ls, 0), StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_failures_are_not_transient()
    {
        Assert.False(TransferRetry.IsTransient(new ServerCertificateException("changed")));
        Assert.False(TransferRetry.IsTransient(new ConnectionFailedException("no tls", new AuthenticationException("bad frame"))));
        Assert.True(TransferRetry.IsTransient(new ConnectionFailedException("refused", new SocketException((int)SocketError.ConnectionRefused))));
    }
}
