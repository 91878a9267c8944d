using System.Net.Sockets;
using System.Text;

namespace FileXfer.Server.Tests.Service;

/// <summary>
/// The server run as systemd runs a <c>Type=notify</c> unit: a fake notify socket (a unix datagram socket the test
/// binds, named by <c>$NOTIFY_SOCKET</c>) receives READY=1 once it listens, RELOADING=1 then READY=1 around a SIGHUP,
/// and STOPPING=1 when SIGTERM starts the drain.
/// </summary>
public sealed class SystemdNotifyTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact(Timeout = 60000)]
    public async Task The_server_tells_the_notify_socket_ready_reloading_ready_and_stopping()
    {
        var token = TestContext.Current.CancellationToken;
        var socketPath = _directory.Combine("notify");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));
        using var server = ServerProcess.StartWithEnvironment(
            new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = socketPath },
            "--root", _directory.CreateDirectory("root"), "--listen", "127.0.0.1:0");

        var ready = await ReceiveAsync(notify, token);
        var endPoint = await server.WaitUntilListeningAsync(token);
        Assert.Contains("READY=1", ready);
        Assert.Contains($"STATUS=listening on {endPoint}", ready);
        Assert.Contains($"MAINPID={server.Id}", ready);

        server.SendSigHup();
        var reloading = await ReceiveAsync(notify, token);
        var readyAgain = await ReceiveAsync(notify, token);
        Assert.Contains("RELOADING=1", reloading);
        Assert.Matches("(^|\n)MONOTONIC_USEC=[0-9]+($|\n)", string.Join('\n', reloading));
        Assert.Contains("READY=1", readyAgain);

        server.SendSigTerm();
        var stopping = await ReceiveAsync(notify, token);
        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token);

        Assert.Contains("STOPPING=1", stopping);
        Assert.Equal(0, exitCode);
    }

    [Fact(Timeout = 60000)]
    public async Task An_abstract_socket_name_is_reached_too()
    {
        var token = TestContext.Current.CancellationToken;
        var name = "filexfer-test-" + Guid.NewGuid().ToString("N");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint("\0" + name));
        using var server = ServerProcess.StartWithEnvironment(
            new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = "@" + name },
            "--root", _directory.CreateDirectory("root"), "--listen", "127.0.0.1:0");

        var ready = await ReceiveAsync(notify, token);
        await server.WaitUntilListeningAsync(token);
        server.SendSigTerm();

        Assert.Contains("READY=1", ready);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token));
    }

    [Fact(Timeout = 60000)]
    public async Task A_notify_socket_nobody_listens_on_does_not_stop_the_server()
    {
        var token = TestContext.Current.CancellationToken;
        using var server = ServerProcess.StartWithEnvironment(
            new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = _directory.Combine("nobody-here") },
            "--root", _directory.CreateDirectory("root"), "--listen", "127.0.0.1:0");

        var endPoint = await server.WaitUntilListeningAsync(token);
        await using (var client = await RawClient.ConnectAsync(endPoint, token))
        {
            await client.HandshakeAsync(token);
        }

        server.SendSigTerm();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token));
    }

    /// <summary>One datagram, as its lines.</summary>
    private static async Task<string[]> ReceiveAsync(Socket socket, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(20));
        var buffer = new byte[4096];
        int received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
        return Encoding.UTF8.GetString(buffer, 0, received).Split('\n');
    }
}
