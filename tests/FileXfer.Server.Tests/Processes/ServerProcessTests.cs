using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Tests.Processes;

/// <summary>The <c>filexfer-server</c> executable: startup line, exit codes and SIGTERM.</summary>
public sealed class ServerProcessTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact(Timeout = 60000)]
    public async Task It_announces_the_bound_port_serves_and_exits_0_on_sigterm()
    {
        var token = TestContext.Current.CancellationToken;
        var staging = _root.CreateDirectory(".filexfer", "staging");
        await File.WriteAllTextAsync(Path.Combine(staging, "crashed.part"), "left by a crash", token);
        // A shutdown timeout far past the test's own: exiting at all shows that idle connections did not wait for it.
        using var server = ServerProcess.Start("--root", _root.Path, "--listen", "127.0.0.1:0", "--shutdown-timeout", "3600");

        var endPoint = await server.WaitUntilListeningAsync(token);
        await using var client = await RawClient.ConnectAsync(endPoint, token);
        await client.HandshakeAsync(token);
        FrameAssert.Is(await client.PutAsync(1, "hello.txt", "hello"u8.ToArray(), token), MessageType.Ok, 1);
        await using var silent = await RawClient.ConnectAsync(endPoint, token);
        server.SendSigTerm();
        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token);

        Assert.Equal(0, exitCode);
        Assert.Equal("hello", await File.ReadAllTextAsync(Path.Combine(_root.Path, "hello.txt"), token));
        Assert.Empty(Directory.GetFiles(staging));
        Assert.Equal([$"listening on {endPoint}"], server.StandardOutput);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(5));
        Assert.Empty(await client.ReadUntilClosedAsync(deadline.Token));
    }

    [Fact(Timeout = 60000)]
    public async Task Sigterm_lets_a_put_in_flight_finish_within_the_shutdown_timeout()
    {
        var token = TestContext.Current.CancellationToken;
        using var server = ServerProcess.Start("--root", _root.Path, "--listen", "127.0.0.1:0", "--shutdown-timeout", "20");
        var endPoint = await server.WaitUntilListeningAsync(token);
        var content = RandomNumberGenerator.GetBytes(256 * 1024);
        await using var client = await RawClient.ConnectAsync(endPoint, token);
        await client.HandshakeAsync(token);
        FrameAssert.Is(await client.StartPutAsync(1, "slow.bin", content.Length, token), MessageType.Ready, 1);
        await client.SendRawAsync(content.AsMemory(0, content.Length / 2), token);

        server.SendSigTerm();
        await server.WaitForLineAsync(l => l.Contains("Stopping: no new connections", StringComparison.Ordinal), TimeSpan.FromSeconds(10), token);
        // The rest of the body comes after the stop has begun, and the server still takes it.
        await client.SendRawAsync(content.AsMemory(content.Length / 2), token);
        await client.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(content)), token);
        var answer = await client.ReadAsync(token);
        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token);

        FrameAssert.Is(answer, MessageType.Ok, 1);
        Assert.Equal(0, exitCode);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(_root.Path, "slow.bin"), token));
    }

    [Fact(Timeout = 60000)]
    public async Task A_missing_root_exits_2_with_one_line_on_stderr()
    {
        var token = TestContext.Current.CancellationToken;
        var missing = _root.Combine("does", "not", "exist");
        using var server = ServerProcess.Start("--root", missing, "--listen", "127.0.0.1:0");

        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token);

        Assert.Equal(2, exitCode);
        var line = Assert.Single(server.StandardError);
        Assert.StartsWith("filexfer-server: cannot use root", line, StringComparison.Ordinal);
        Assert.Contains(missing, line, StringComparison.Ordinal);
        Assert.Empty(server.StandardOutput);
    }

    [Fact(Timeout = 60000)]
    public async Task An_address_already_in_use_exits_3()
    {
        var token = TestContext.Current.CancellationToken;
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        using var server = ServerProcess.Start("--root", _root.Path, "--listen", $"127.0.0.1:{((IPEndPoint)taken.LocalEndPoint!).Port}");

        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token);

        Assert.Equal(3, exitCode);
        Assert.Contains(server.StandardError, l => l.StartsWith("filexfer-server: cannot listen on 127.0.0.1:", StringComparison.Ordinal));
        Assert.Empty(server.StandardOutput);
    }
}
