using System.Net;
using System.Net.Sockets;
using FileXfer.Server.Hosting;

namespace FileXfer.Server.Tests.Hosting;

/// <summary>TCP keepalive on accepted connections, so a peer that vanished without closing is noticed.</summary>
public sealed class KeepAliveTests
{
    [Fact(Timeout = 30000)]
    public async Task Accepted_connections_are_probed_at_the_configured_interval()
    {
        var options = new TcpServerOptions { KeepAliveInterval = TimeSpan.FromSeconds(7), KeepAliveProbes = 4 };

        var seen = await AcceptedSocketOptionsAsync(options, TestContext.Current.CancellationToken);

        Assert.Equal(new SocketKeepAlive(On: true, IdleSeconds: 7, IntervalSeconds: 7, Probes: 4), seen);
    }

    [Fact(Timeout = 30000)]
    public async Task Without_an_interval_keepalive_is_off()
    {
        var seen = await AcceptedSocketOptionsAsync(new TcpServerOptions { KeepAliveInterval = null }, TestContext.Current.CancellationToken);

        Assert.False(seen.On);
    }

    private static async Task<SocketKeepAlive> AcceptedSocketOptionsAsync(TcpServerOptions options, CancellationToken cancellationToken)
    {
        var seen = new TaskCompletionSource<SocketKeepAlive>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new TcpServer(new IPEndPoint(IPAddress.Loopback, 0), context => new InspectingHandler(context, seen), new RecordingLogger(), options);
        server.Start();
        var serving = server.ServeForeverAsync(cancellationToken);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.LocalEndPoint, cancellationToken);
        var result = await seen.Task.WaitAsync(cancellationToken);
        await server.StopAsync();
        await serving;
        return result;
    }

    private sealed record SocketKeepAlive(bool On, int IdleSeconds, int IntervalSeconds, int Probes);

    private sealed class InspectingHandler(ConnectionContext connection, TaskCompletionSource<SocketKeepAlive> seen) : RequestHandler(connection)
    {
        public override Task HandleAsync(CancellationToken cancellationToken)
        {
            var socket = Connection.Socket;
            seen.TrySetResult(new SocketKeepAlive(
                (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)! != 0,
                (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime)!,
                (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval)!,
                (int)socket.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount)!));
            return Task.CompletedTask;
        }
    }
}
