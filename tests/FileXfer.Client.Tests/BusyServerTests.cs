using System.Net;
using FileXfer.Protocol.Net;
using FileXfer.Server.Storage.Local;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;

namespace FileXfer.Client.Tests;

/// <summary>A server at its connection limit refuses the client with a reason the user reads in one line (exit 3).</summary>
public class BusyServerTests
{
    [Fact(Timeout = 60000)]
    public async Task A_server_over_its_per_address_limit_is_reported_in_one_line_with_exit_3()
    {
        var token = TestContext.Current.CancellationToken;
        using var sandbox = new TempDirectory("filexfer-server");
        var store = new FileStore(Directory.CreateDirectory(sandbox.Combine("root")).FullName);
        var log = new RecordingLogger();
        var handlerOptions = new FileXferHandlerOptions();
        await using var server = new TcpServer(
            new IPEndPoint(IPAddress.Loopback, 0),
            context => new FileXferRequestHandler(context, store, handlerOptions, log),
            log,
            new TcpServerOptions { MaxConnectionsPerAddress = 1, ShutdownTimeout = TimeSpan.FromSeconds(5) });
        server.Start();
        var serving = server.ServeForeverAsync(CancellationToken.None);
        // Another client from the same address, past its handshake (so it cannot be evicted), holds the only place.
        await using var holder = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.LocalEndPoint.Port), options: null, token);

        var result = await CliRunner.RunAsync($"127.0.0.1:{server.LocalEndPoint.Port}", ["ls", "--retries", "0"], token);

        var line = CliAssert.OneErrorLine(result, 3);
        Assert.Equal("filexfer: server: too many connections from your address; try again later", line);
        await server.StopAsync();
        await serving;
    }
}
