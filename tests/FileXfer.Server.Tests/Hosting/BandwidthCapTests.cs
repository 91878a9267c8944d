using FileXfer.Protocol.Framing;
using FileXfer.Server.Handlers;

namespace FileXfer.Server.Tests.Hosting;

/// <summary>The server's per-connection cap (--bwlimit): uploads and downloads still go through whole and verified.</summary>
public sealed class BandwidthCapTests
{
    [Fact(Timeout = 60000)]
    public async Task A_capped_connection_stores_and_sends_files()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { BandwidthLimit = 64L * 1024 * 1024, SendFile = SendFileUse.Always });
        var content = new byte[200_000];
        Random.Shared.NextBytes(content);
        await using var client = await server.ConnectReadyAsync(token);

        FrameAssert.Is(await client.PutAsync(1, "a.bin", content, token), MessageType.Ok, 1);
        await client.SendAsync(Messages.Get(2, "a.bin", FileXfer.Protocol.Hashing.HashAlgorithms.Sha256), token);
        var data = await client.ReadAsync(token);
        var body = await client.ReadBodyAsync(content.Length, token);

        FrameAssert.Is(data, MessageType.Data, 2);
        Assert.Equal(content, body);
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf("a.bin"), token));
    }
}
