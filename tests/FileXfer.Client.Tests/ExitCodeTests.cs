using System.Net;
using System.Net.Sockets;
using FileXfer.Client.Cli;
using FileXfer.Protocol.Framing;

namespace FileXfer.Client.Tests;

/// <summary>Exit codes and the one-line error messages of the command line.</summary>
public class ExitCodeTests
{
    [Fact(Timeout = 60000)]
    public async Task Success_is_0()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var file = local.Combine("f.txt");
        await File.WriteAllTextAsync(file, "x", token);

        var result = await CliRunner.RunAsync(server, ["put", file, "f.txt"], token);

        CliAssert.Success(result);
        Assert.StartsWith("stored f.txt (1 B, sha256 ", result.Stdout, StringComparison.Ordinal);
    }

    [Theory(Timeout = 60000)]
    [InlineData("frobnicate")]
    [InlineData("--bogus", "ls")]
    [InlineData("ls", "--bogus")]
    [InlineData("put", "only-one-argument")]
    [InlineData("get")]
    [InlineData("put", "a", "b", "c")]
    [InlineData("ls", "--connect-timeout", "soon")]
    [InlineData("get", "remote.txt", "--bogus")]
    [InlineData("rm", "-f", "x")]
    [InlineData("stat", "--long", "x")]
    [InlineData("hash", "-x", "f")]
    [InlineData("put", "--force", "local", "remote")]
    public async Task Unknown_commands_options_and_wrong_arguments_are_usage_errors(params string[] args)
    {
        var token = TestContext.Current.CancellationToken;
        // If parsing wrongly let one through, it must not reach a real server on the default port.
        var result = await CliRunner.RunAsync(ClosedPortAddress(), args, token);

        CliAssert.UsageError(result);
    }

    [Fact(Timeout = 60000)]
    public async Task Names_that_start_with_a_dash_are_given_after_a_double_dash()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var file = local.Combine("f.txt");
        await File.WriteAllTextAsync(file, "dash", token);

        var put = await CliRunner.RunAsync(server, ["put", file, "--", "-dash.txt"], token);
        var stat = await CliRunner.RunAsync(server, ["stat", "--", "-dash.txt"], token);
        var get = await CliRunner.RunAsync(server, ["get", "--", "-dash.txt", local.Combine("back.txt")], token);
        var hash = await CliRunner.RunAsync(server, ["hash", "--", "-dash.txt"], token);
        var rm = await CliRunner.RunAsync(server, ["rm", "--", "-dash.txt"], token);

        CliAssert.Success(put);
        CliAssert.Success(stat);
        Assert.StartsWith("path: /-dash.txt\n", stat.Stdout, StringComparison.Ordinal);
        CliAssert.Success(get);
        Assert.Equal("dash", await File.ReadAllTextAsync(local.Combine("back.txt"), token));
        CliAssert.Success(hash);
        Assert.EndsWith("  -dash.txt\n", hash.Stdout, StringComparison.Ordinal);
        CliAssert.Success(rm);
        Assert.False(File.Exists(server.PathOf("-dash.txt")));
    }

    [Theory(Timeout = 60000)]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a\\b")]
    [InlineData("a\\..\\b")]
    [InlineData("a//b")]
    [InlineData("./x")]
    [InlineData("C:/x")]
    [InlineData("tab\there")]
    public async Task An_invalid_remote_path_is_a_usage_error_and_nothing_is_stored(string remote)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var file = local.Combine("f.txt");
        await File.WriteAllTextAsync(file, "x", token);

        var result = await CliRunner.RunAsync(server, ["put", file, remote], token);

        var line = CliAssert.OneErrorLine(result, 2);
        Assert.Contains("invalid path", line, StringComparison.Ordinal);
        Assert.Empty(TestFiles.ListRelative(server.Root));
    }

    [Theory(Timeout = 60000)]
    [InlineData("put", "--algorithm", "md5", "LOCAL", "x")]
    [InlineData("get", "-a", "crc32", "x", "LOCAL")]
    [InlineData("hash", "--algorithm", "SHA256", "x")]
    public async Task Bad_option_values_are_exit_2_before_anything_is_sent(params string[] args)
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        var file = local.Combine("f.txt");
        await File.WriteAllTextAsync(file, "x", token);
        // Nothing listens at this address: a usage error must be found before any attempt to connect.
        var result = await CliRunner.RunAsync(ClosedPortAddress(), [.. args.Select(a => a == "LOCAL" ? file : a)], token);

        CliAssert.OneErrorLine(result, 2);
        Assert.Equal(["f.txt"], TestFiles.ListRelative(local.Path));
    }

    [Theory(Timeout = 60000)]
    [InlineData("--connect-timeout", "--connect-timeout", "0", "ls")]
    [InlineData("--connect-timeout", "--connect-timeout", "-1", "ls")]
    [InlineData("--connect-timeout", "--connect-timeout", "1e12", "ls")]
    [InlineData("--timeout", "--timeout", "99999999999", "ls")]
    [InlineData("--timeout", "--timeout", "Infinity", "ls")]
    [InlineData("--timeout", "--timeout", "NaN", "ls")]
    [InlineData("--timeout", "--timeout", "1,5", "ls")]
    [InlineData("--retries", "--retries", "101", "ls")]
    [InlineData("--retries", "--retries", "99999999999", "ls")]
    [InlineData("--parallel", "put", "-r", "--parallel", "0", "LOCAL", "x")]
    [InlineData("--parallel", "get", "-r", "-P", "65", "x", "LOCAL")]
    [InlineData("--max-delete", "put", "-r", "--delete", "--max-delete", "-1", "LOCAL", "x")]
    [InlineData("LOCAL", "get", "x", "")]
    [InlineData("LOCAL", "put", "", "x")]
    [InlineData("PATHS", "verify", "", "x")]
    [InlineData("--token-file", "--token-file", "", "ls")]
    public async Task Values_out_of_range_or_empty_are_refused_by_the_parser_with_exit_2(string named, params string[] args)
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        // Nothing listens at this address: the value must be refused before any attempt to connect.
        var result = await CliRunner.RunAsync(ClosedPortAddress(), [.. args.Select(a => a == "LOCAL" ? local.Path : a)], token);

        CliAssert.UsageError(result);
        Assert.StartsWith($"filexfer: {named} ", result.StderrLines[0], StringComparison.Ordinal);
        Assert.Empty(TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task A_local_directory_cannot_be_put()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();

        var result = await CliRunner.RunAsync(server, ["put", local.Path, "x"], token);

        Assert.Contains("is a directory", CliAssert.OneErrorLine(result, 2), StringComparison.Ordinal);
        Assert.Empty(TestFiles.ListRelative(server.Root));
    }

    [Fact(Timeout = 60000)]
    public async Task A_host_name_works_as_a_server_address()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllTextAsync(server.PathOf("named.txt"), "x", token);

        var result = await CliRunner.RunAsync($"localhost:{server.Port}", ["ls"], token);

        CliAssert.Success(result);
        Assert.Equal("named.txt\n", result.Stdout);
    }

    [Fact(Timeout = 60000)]
    public async Task No_server_listening_is_exit_3()
    {
        var token = TestContext.Current.CancellationToken;
        var address = ClosedPortAddress();

        var result = await CliRunner.RunAsync(address, ["ls"], token);

        var line = CliAssert.OneErrorLine(result, 3);
        Assert.Contains($"cannot connect to {address}", line, StringComparison.Ordinal);
    }

    /// <summary>An address on which nothing listens: a port that was bound a moment ago and closed.</summary>
    internal static string ClosedPortAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"127.0.0.1:{port}";
    }

    [Fact(Timeout = 60000)]
    public async Task A_server_that_never_answers_the_handshake_is_exit_3_after_the_connect_timeout()
    {
        var token = TestContext.Current.CancellationToken;
        // Listening but never accepting: the kernel completes the TCP handshake, nobody ever answers Hello.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var address = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";

        var result = await CliRunner.RunAsync(address, ["--connect-timeout", "0.5", "ls"], token);

        Assert.Contains("no answer within", CliAssert.OneErrorLine(result, 3), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task A_server_that_hangs_up_at_once_is_exit_3()
    {
        var token = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var address = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        var hangUp = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(token);
            socket.Close();
        }, token);

        var result = await CliRunner.RunAsync(address, ["ls"], token);
        await hangUp;

        Assert.Contains("closed the connection during the handshake", CliAssert.OneErrorLine(result, 3), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task Something_that_is_not_a_filexfer_server_is_reported_in_one_line()
    {
        var token = TestContext.Current.CancellationToken;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var address = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        var http = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync(token);
            await socket.SendAsync("HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray(), token);
            // Drain what the client sent until it hangs up: closing with unread bytes would reset the connection
            // and the client could see the reset before the reply.
            var buffer = new byte[1024];
            while (await socket.ReceiveAsync(buffer, token) > 0)
            {
            }
        }, token);

        var result = await CliRunner.RunAsync(address, ["ls"], token);
        await http;

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("does not speak the FileXfer protocol", CliAssert.OneErrorLine(result, result.ExitCode), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task A_server_that_stopped_is_exit_3()
    {
        var token = TestContext.Current.CancellationToken;
        var server = new TestServer();
        var address = server.Address;
        await server.DisposeAsync();

        var result = await CliRunner.RunAsync(address, ["stat", "x"], token);

        CliAssert.OneErrorLine(result, 3);
    }

    [Fact(Timeout = 60000)]
    public async Task A_missing_remote_file_is_exit_5_for_get_and_stat_and_no_temp_file_is_left()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();

        var get = await CliRunner.RunAsync(server, ["get", "missing.txt", local.Path], token);
        var getToFile = await CliRunner.RunAsync(server, ["get", "dir/missing.txt", local.Combine("out.txt")], token);
        var stat = await CliRunner.RunAsync(server, ["stat", "missing.txt"], token);
        var hash = await CliRunner.RunAsync(server, ["hash", "missing.txt"], token);
        var ls = await CliRunner.RunAsync(server, ["ls", "no/such/dir"], token);
        var rm = await CliRunner.RunAsync(server, ["rm", "missing.txt"], token);

        Assert.Contains("not found", CliAssert.OneErrorLine(get, 5), StringComparison.Ordinal);
        CliAssert.OneErrorLine(getToFile, 5);
        Assert.Equal("filexfer: server: 'missing.txt' not found", CliAssert.OneErrorLine(stat, 5));
        CliAssert.OneErrorLine(hash, 5);
        CliAssert.OneErrorLine(ls, 5);
        CliAssert.OneErrorLine(rm, 5);
        Assert.Empty(TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task A_missing_local_file_on_put_is_exit_5()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();

        var result = await CliRunner.RunAsync(server, ["put", local.Combine("nope.txt"), "nope.txt"], token);

        Assert.Contains("nope.txt' not found", CliAssert.OneErrorLine(result, 5), StringComparison.Ordinal);
        Assert.Empty(TestFiles.ListRelative(server.Root));
    }

    [Fact(Timeout = 60000)]
    public async Task Get_into_a_missing_local_directory_is_exit_5()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await File.WriteAllTextAsync(server.PathOf("f.txt"), "x", token);

        var result = await CliRunner.RunAsync(server, ["get", "f.txt", local.Combine("no", "such", "dir", "f.txt")], token);

        CliAssert.OneErrorLine(result, 5);
        Assert.Empty(TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task A_hash_mismatch_from_the_server_is_exit_4_and_the_local_file_is_untouched()
    {
        var token = TestContext.Current.CancellationToken;
        var body = TestFiles.RandomBytes(50_000, seed: 9);
        var wrong = new byte[32];
        await using var hostile = new HostileServer(HostileServer.SendBody(body, wrong));
        using var local = new TempDirectory();
        var target = local.Combine("keep.bin");
        await File.WriteAllTextAsync(target, "original", token);

        var result = await CliRunner.RunAsync(hostile.Address, ["get", "file.bin", target], token);

        var line = CliAssert.OneErrorLine(result, 4);
        Assert.Contains("do not match", line, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
        Assert.Equal("original", await File.ReadAllTextAsync(target, token));
        Assert.Equal(["keep.bin"], TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task An_unsafe_name_from_the_server_is_reported_in_one_line()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, new RemoteEntry("../evil", EntryKind.File, 1, DateTimeOffset.UnixEpoch, null)), ct);
            await connection.Writer.WriteAsync(Messages.EndOfList(request.RequestId, 1), ct);
        });

        var result = await CliRunner.RunAsync(hostile.Address, ["ls"], token);

        Assert.Contains("protocol error", CliAssert.OneErrorLine(result, 1), StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact(Timeout = 60000)]
    public async Task A_server_cut_off_in_the_middle_of_a_body_is_exit_3()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            await connection.Writer.WriteAsync(Messages.Data(request.RequestId, 1000, request.GetString(FieldTag.HashAlgorithm), DateTimeOffset.UnixEpoch, null), ct);
            await connection.Stream.WriteAsync(new byte[100], ct);
            connection.Close();
        });
        using var local = new TempDirectory();

        var result = await CliRunner.RunAsync(hostile.Address, ["get", "f", local.Combine("f")], token);

        CliAssert.OneErrorLine(result, 3);
        Assert.Empty(TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task The_server_comes_from_FILEXFER_SERVER_and_the_flag_takes_precedence()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var other = new TestServer();
        await File.WriteAllTextAsync(server.PathOf("here.txt"), "x", token);
        await File.WriteAllTextAsync(other.PathOf("there.txt"), "x", token);
        var environment = new Dictionary<string, string> { ["FILEXFER_SERVER"] = server.Address };

        var fromEnvironment = await CliRunner.RunAsync(["ls"], environment, isErrorTerminal: false, token);
        var fromFlag = await CliRunner.RunAsync(["ls", "--server", other.Address], environment, isErrorTerminal: false, token);
        var fromShortFlag = await CliRunner.RunAsync(["-s", other.Address, "ls"], environment, isErrorTerminal: false, token);
        var badEnvironment = await CliRunner.RunAsync(["ls", "--server", server.Address], new Dictionary<string, string> { ["FILEXFER_SERVER"] = "not an address" }, isErrorTerminal: false, token);

        CliAssert.Success(fromEnvironment);
        Assert.Equal(["here.txt"], fromEnvironment.StdoutLines);
        CliAssert.Success(fromFlag);
        Assert.Equal(["there.txt"], fromFlag.StdoutLines);
        CliAssert.Success(fromShortFlag);
        Assert.Equal(["there.txt"], fromShortFlag.StdoutLines);
        CliAssert.Success(badEnvironment);
    }

    [Theory(Timeout = 60000)]
    [InlineData("nonsense")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:99999")]
    [InlineData("127.0.0.1:port")]
    [InlineData(":7070")]
    [InlineData("::1:7070")]
    public async Task A_bad_server_address_is_exit_2(string address)
    {
        var token = TestContext.Current.CancellationToken;
        var flag = await CliRunner.RunAsync(address, ["ls"], token);
        var environment = await CliRunner.RunAsync(["ls"], new Dictionary<string, string> { ["FILEXFER_SERVER"] = address }, isErrorTerminal: false, token);

        Assert.Contains("bad server address", CliAssert.OneErrorLine(flag, 2), StringComparison.Ordinal);
        Assert.Contains("bad server address", CliAssert.OneErrorLine(environment, 2), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task Quiet_prints_nothing_on_success()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var file = local.Combine("f.bin");
        await TestFiles.WriteRandomAsync(file, 2 * 1024 * 1024, seed: 1, token);

        var put = await CliRunner.RunAsync(["--server", server.Address, "--quiet", "put", file, "f.bin"], environment: null, isErrorTerminal: true, token);
        var get = await CliRunner.RunAsync(["get", "-q", "f.bin", local.Combine("g.bin"), "--server", server.Address], environment: null, isErrorTerminal: true, token);

        CliAssert.Success(put);
        Assert.Empty(put.Stdout);
        CliAssert.Success(get);
        Assert.Empty(get.Stdout);
    }

    [Fact(Timeout = 60000)]
    public async Task No_progress_bar_is_drawn_when_stderr_is_not_a_terminal()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var file = local.Combine("f.bin");
        await TestFiles.WriteRandomAsync(file, 3 * 1024 * 1024, seed: 2, token);

        var put = await CliRunner.RunAsync(["--server", server.Address, "put", file, "f.bin"], environment: null, isErrorTerminal: false, token);
        var get = await CliRunner.RunAsync(["--server", server.Address, "get", "f.bin", local.Combine("g.bin")], environment: null, isErrorTerminal: false, token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.DoesNotContain('\r', put.Stdout + put.Stderr + get.Stdout + get.Stderr);
        Assert.Single(put.StdoutLines);
        Assert.Single(get.StdoutLines);
    }

    [Fact(Timeout = 60000)]
    public async Task A_progress_bar_is_drawn_on_a_terminal_unless_quiet()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var file = local.Combine("f.bin");
        await TestFiles.WriteRandomAsync(file, 3 * 1024 * 1024, seed: 2, token);

        var put = await CliRunner.RunAsync(["--server", server.Address, "put", file, "f.bin"], environment: null, isErrorTerminal: true, token);
        var get = await CliRunner.RunAsync(["--server", server.Address, "get", "f.bin", local.Combine("g.bin")], environment: null, isErrorTerminal: true, token);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.True(get.ExitCode == 0, get.ToString());
        foreach (var run in new[] { put, get })
        {
            Assert.Contains('\r', run.Stderr);
            Assert.Contains("100%", run.Stderr, StringComparison.Ordinal);
            Assert.Contains("3.0 MiB / 3.0 MiB", run.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain('\r', run.Stdout);
            Assert.EndsWith("\n", run.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_failure_on_a_terminal_erases_the_bar_before_the_error_line()
    {
        var token = TestContext.Current.CancellationToken;
        var body = TestFiles.RandomBytes(50_000, seed: 9);
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            if (request.Type == MessageType.Stat)
            {
                await connection.Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, new RemoteEntry("f", EntryKind.File, body.Length, DateTimeOffset.UnixEpoch, null)), ct);
                return;
            }

            await HostileServer.SendBody(body, new byte[32])(connection, request, ct);
        });
        using var local = new TempDirectory();

        var result = await CliRunner.RunAsync(["--server", hostile.Address, "get", "f", local.Combine("f")], environment: null, isErrorTerminal: true, token);

        Assert.Equal(4, result.ExitCode);
        var lastLine = result.Stderr.Split('\r')[^1];
        Assert.StartsWith("filexfer: ", lastLine, StringComparison.Ordinal);
        Assert.EndsWith("\n", lastLine, StringComparison.Ordinal);
        CliAssert.NoStackTrace(result);
    }

    [Fact]
    public async Task A_platform_the_file_calls_do_not_support_is_reported_in_one_line()
    {
        // What FileXfer.Platform raises at the first file call on an architecture it has no values for.
        var refusal = new PlatformNotSupportedException("unsupported architecture 'riscv64': FileXfer's Linux file calls know the values of x64 and arm64 only");
        using var error = new StringWriter();
        var console = new CliConsole(TextWriter.Null, error, IsErrorTerminal: false, _ => null);

        var code = await ErrorReporter.ReportAsync(console, refusal);

        Assert.Equal(ExitCode.Unexpected, code);
        Assert.Equal($"filexfer: {refusal.Message}\n", error.ToString().ReplaceLineEndings("\n"));
    }
}
