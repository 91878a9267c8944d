using System.CommandLine;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Net;
using FileXfer.Protocol.Transfer;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;
using FileXfer.Server.Tls;

namespace FileXfer.Server.Tests.Security;

/// <summary>The server's TLS: its certificate (generated and kept, or given), the fingerprint it prints, and its handshake.</summary>
public sealed class TlsServerTests : IDisposable
{
    private const string FingerprintPrefix = "TLS certificate SHA-256 fingerprint: ";

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void A_self_signed_certificate_is_generated_on_first_start_kept_owner_only_and_reused()
    {
        var root = _directory.CreateDirectory("root");

        var first = ServerCertificate.LoadOrCreate(root, IPAddress.Parse("192.0.2.7"));
        var second = ServerCertificate.LoadOrCreate(root, listenAddress: null);

        Assert.True(first.Generated);
        Assert.False(second.Generated);
        Assert.Equal(first.Fingerprint, second.Fingerprint);
        Assert.Equal(SHA256.HashData(second.Certificate.RawData), second.Fingerprint);
        Assert.True(second.Certificate.HasPrivateKey);
        Assert.NotNull(second.Certificate.GetECDsaPublicKey());
        Assert.InRange(second.Certificate.NotAfter - DateTime.Now, TimeSpan.FromDays(3600), TimeSpan.FromDays(3660));
        var names = second.Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Contains("localhost", names.EnumerateDnsNames());
        Assert.Contains(Dns.GetHostName(), names.EnumerateDnsNames());
        Assert.Contains(IPAddress.Loopback, names.EnumerateIPAddresses());
        Assert.Contains(IPAddress.IPv6Loopback, names.EnumerateIPAddresses());
        Assert.Contains(IPAddress.Parse("192.0.2.7"), names.EnumerateIPAddresses());
        var directory = ServerCertificate.DirectoryUnder(root);
        Assert.Equal([ServerCertificate.CertificateFileName, ServerCertificate.KeyFileName], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, ServerCertificate.KeyFileName)));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
        }
    }

    [Fact]
    public void Half_a_kept_certificate_left_by_a_crash_is_generated_again()
    {
        var root = _directory.CreateDirectory("root");
        var first = ServerCertificate.LoadOrCreate(root, listenAddress: null);
        File.Delete(Path.Combine(ServerCertificate.DirectoryUnder(root), ServerCertificate.CertificateFileName));

        var again = ServerCertificate.LoadOrCreate(root, listenAddress: null);

        Assert.True(again.Generated);
        Assert.NotEqual(first.Fingerprint, again.Fingerprint);
    }

    [Fact(Timeout = 30000)]
    public async Task The_fingerprint_command_prints_the_kept_certificate_without_starting_a_server()
    {
        var token = TestContext.Current.CancellationToken;
        var root = _directory.CreateDirectory("root");

        var (firstCode, firstOut, firstErr) = await RunAsync(["fingerprint", "--root", root], token);
        var (secondCode, secondOut, _) = await RunAsync(["fingerprint", "--root", root], token);

        Assert.Equal(0, firstCode);
        Assert.Empty(firstErr);
        Assert.Equal(0, secondCode);
        var kept = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(ServerCertificate.DirectoryUnder(root), ServerCertificate.CertificateFileName));
        Assert.Equal(FingerprintPrefix + CertificateFingerprint.Format(SHA256.HashData(kept.RawData)) + "\n", firstOut);
        Assert.Equal(firstOut, secondOut);
    }

    [Fact(Timeout = 30000)]
    public async Task The_fingerprint_command_on_a_fresh_root_creates_the_servers_directories_owner_only()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix permissions");
        var token = TestContext.Current.CancellationToken;
        var root = _directory.CreateDirectory("root");
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

        var (exitCode, _, stderr) = await RunAsync(["fingerprint", "--root", root], token);

        Assert.Equal(0, exitCode);
        Assert.Empty(stderr);
        var tlsDirectory = ServerCertificate.DirectoryUnder(root);
        Assert.Equal(Private, File.GetUnixFileMode(Path.GetDirectoryName(tlsDirectory)!));
        Assert.Equal(Private, File.GetUnixFileMode(tlsDirectory));
        // The server started afterwards accepts the directory the fingerprint command made.
        Assert.NotNull(new FileXfer.Server.Storage.Local.FileStore(root));
    }

    [Fact(Timeout = 30000)]
    public async Task A_certificate_that_cannot_be_loaded_exits_2_with_one_line()
    {
        var token = TestContext.Current.CancellationToken;
        var root = _directory.CreateDirectory("root");
        var bogus = _directory.Combine("bogus.pem");
        await File.WriteAllTextAsync(bogus, "not a certificate", token);

        var (missingCode, _, missingErr) = await RunAsync(["fingerprint", "--root", root, "--tls-cert", _directory.Combine("missing.pem")], token);
        var (bogusCode, _, bogusErr) = await RunAsync(["fingerprint", "--root", root, "--tls-cert", bogus], token);

        Assert.Equal(2, missingCode);
        Assert.StartsWith("filexfer-server: cannot use the TLS certificate: ", missingErr, StringComparison.Ordinal);
        Assert.Single(missingErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(2, bogusCode);
        Assert.StartsWith("filexfer-server: cannot use the TLS certificate: ", bogusErr, StringComparison.Ordinal);
        Assert.Single(bogusErr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory(Timeout = 30000)]
    [InlineData("pem-with-key")]
    [InlineData("pem-and-key-file")]
    [InlineData("pfx")]
    public async Task A_given_certificate_is_what_clients_see_and_the_protocol_runs_inside_tls(string form)
    {
        var token = TestContext.Current.CancellationToken;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=files.example.test", key, HashAlgorithmName.SHA256);
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var certificatePath = _directory.Combine(form == "pfx" ? "server.pfx" : "server.pem");
        string? keyPath = null;
        switch (form)
        {
            case "pem-with-key":
                await File.WriteAllTextAsync(certificatePath, made.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem(), token);
                break;
            case "pem-and-key-file":
                keyPath = _directory.Combine("server.key");
                await File.WriteAllTextAsync(certificatePath, made.ExportCertificatePem(), token);
                await File.WriteAllTextAsync(keyPath, key.ExportECPrivateKeyPem(), token);
                break;
            default:
                await File.WriteAllBytesAsync(certificatePath, made.Export(X509ContentType.Pkcs12), token);
                break;
        }

        var loaded = ServerCertificate.Load(certificatePath, keyPath);
        var (printCode, printed, _) = await RunAsync(["fingerprint", "--root", _directory.CreateDirectory("root"), "--tls-cert", certificatePath, .. keyPath is null ? Array.Empty<string>() : ["--tls-key", keyPath]], token);
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { Tls = loaded.Context });
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint, token);
        byte[]? seen = null;
        // Trusted only when it is the given certificate: the client pins its fingerprint.
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            seen = certificate is null ? null : SHA256.HashData(certificate.GetRawCertData());
            return seen is not null && seen.AsSpan().SequenceEqual(SHA256.HashData(made.RawData));
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "files.example.test" }, token);
        var welcome = await HelloAsync(tls, token);

        Assert.Equal(SHA256.HashData(made.RawData), seen);
        Assert.Equal(SHA256.HashData(made.RawData), loaded.Fingerprint);
        Assert.Equal(0, printCode);
        Assert.Equal(FingerprintPrefix + CertificateFingerprint.Format(SHA256.HashData(made.RawData)) + "\n", printed);
        Assert.True(tls.SslProtocol is SslProtocols.Tls13 or SslProtocols.Tls12, $"negotiated {tls.SslProtocol}");
        Assert.Equal(MessageType.Welcome, welcome.Type);
    }

    [Fact(Timeout = 30000)]
    public async Task A_plaintext_client_is_answered_with_an_error_asking_for_tls_and_closed()
    {
        var token = TestContext.Current.CancellationToken;
        var certificate = ServerCertificate.LoadOrCreate(_directory.CreateDirectory("root"), listenAddress: null);
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { Tls = certificate.Context });
        await using var client = await server.ConnectAsync(token);

        await client.SendMagicAsync(token);
        await client.SendHelloAsync(ProtocolLimits.Version, token);
        await client.ReadMagicAsync(token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var frames = await client.ReadUntilClosedAsync(deadline.Token);

        var error = Assert.Single(frames);
        FrameAssert.IsError(error, ErrorCode.AuthenticationFailed, 0);
        Assert.Equal("this server requires TLS (use --tls)", error.GetStringOrNull(FieldTag.Message));
        await server.WaitForClosedConnectionsAsync(1, token);
        Assert.Empty(server.Log.WithEvent(ServerEvents.HandshakeCompleted));
    }

    [Fact(Timeout = 30000)]
    public async Task A_tls_handshake_that_stalls_is_closed_at_the_handshake_timeout()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        await using var server = StartOnClock(clock, out _);
        await using var client = await server.ConnectAsync(token);

        // The start of a TLS record header, then nothing: a slowloris inside the TLS handshake.
        await client.SendRawAsync(new byte[] { 0x16, 0x03, 0x01 }, token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 1, TimeSpan.FromSeconds(10), token);
        clock.Advance(TimeSpan.FromSeconds(10));
        var answer = await client.ReadRawUntilClosedAsync(token);

        Assert.Empty(answer);
        await HandshakeAssert.TimedOutAsync(server, "no TLS handshake within 10 s of the accept", token);
    }

    [Fact(Timeout = 30000)]
    public async Task The_tls_and_the_filexfer_handshake_share_one_deadline_counted_from_the_accept()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        await using var server = StartOnClock(clock, out var certificate);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint, token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 1, TimeSpan.FromSeconds(10), token);

        // Most of the budget goes before TLS; TLS then completes in time, and the FileXfer handshake gets only what is left.
        clock.Advance(TimeSpan.FromSeconds(8));
        // Pinned: trusted only when it is the server's certificate.
        await using var tls = new SslStream(new NetworkStream(socket), leaveInnerStreamOpen: false, (_, presented, _, _) =>
            presented is not null && SHA256.HashData(presented.GetRawCertData()).AsSpan().SequenceEqual(certificate.Fingerprint));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, token);
        clock.Advance(TimeSpan.FromSeconds(2));

        try
        {
            Assert.Equal(0, await tls.ReadAsync(new byte[16], token));
        }
        catch (IOException)
        {
            // Closed with a reset: as closed.
        }

        // The server may still have been finishing its side of TLS: either way the one deadline closed it.
        await HandshakeAssert.TimedOutAsync(server, "handshake within 10 s of the accept", token);
    }

    /// <summary>A TLS server whose handshake deadline, 10 s, runs on <paramref name="clock"/>.</summary>
    private TestServer StartOnClock(TestClock clock, out ServerCertificate certificate)
    {
        certificate = ServerCertificate.LoadOrCreate(_directory.CreateDirectory("root"), listenAddress: null);
        return new TestServer(
            root: null,
            handlerOptions: new FileXferHandlerOptions { Tls = certificate.Context },
            serverOptions: new TcpServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(10), TimeProvider = clock });
    }

    [Fact(Timeout = 60000)]
    public async Task The_server_started_with_tls_prints_the_fingerprint_of_the_certificate_it_keeps_across_restarts()
    {
        var token = TestContext.Current.CancellationToken;
        var root = _directory.CreateDirectory("root");
        var lines = new List<string>();
        for (int run = 0; run < 2; run++)
        {
            using var server = ServerProcess.Start("--root", root, "--listen", "127.0.0.1:0", "--tls");
            await server.WaitUntilListeningAsync(token);
            lines.Add(await server.WaitForLineAsync(line => line.StartsWith(FingerprintPrefix, StringComparison.Ordinal), TimeSpan.FromSeconds(20), token));
            server.SendSigTerm();
            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token));
            Assert.Equal(lines[^1], server.StandardOutput[1]);
        }

        var kept = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(ServerCertificate.DirectoryUnder(root), ServerCertificate.CertificateFileName));
        Assert.Equal(FingerprintPrefix + CertificateFingerprint.Format(SHA256.HashData(kept.RawData)), lines[0]);
        Assert.Equal(lines[0], lines[1]);
    }

    private static async Task<Frame> HelloAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var writer = new FrameWriter(stream);
        using var reader = new ProtocolReader(stream);
        await writer.WriteMagicAsync(cancellationToken);
        await writer.WriteAsync(Messages.Hello(ProtocolLimits.Version, Capabilities.None, RawClient.Agent), cancellationToken);
        await writer.FlushAsync(cancellationToken);
        await reader.ReadMagicAsync(cancellationToken);
        return await reader.ReadRequiredFrameAsync(cancellationToken);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        int exitCode = await ServerCommand.Create(stdout, stderr).Parse(args).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, cancellationToken);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }
}
