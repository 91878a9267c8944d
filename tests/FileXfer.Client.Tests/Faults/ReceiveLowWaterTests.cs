using FileXfer.Protocol.Net;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// A large body is received with a raised low-water mark (SO_RCVLOWAT), so the reader is woken for big pieces only.
/// It must come back down for the end of the body and for the small frames after it, or the next request waits
/// forever for bytes that never come.
/// </summary>
public class ReceiveLowWaterTests
{
    private const int Size = (9 * 1024 * 1024) + 777;

    [Fact(Timeout = 60000)]
    public async Task After_a_large_put_and_a_large_get_small_requests_on_the_same_connection_are_answered()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 81, token);
        await using var client = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), null, token);

        await client.UploadFileAsync(source, "big.bin", progress: null, token);
        var afterPut = await client.StatAsync("big.bin", token).WaitAsync(TimeSpan.FromSeconds(10), token);
        await client.DownloadFileAsync("big.bin", local.Combine("copy.bin"), progress: null, token);
        var afterGet = (await client.ListAsync("/", token).WaitAsync(TimeSpan.FromSeconds(10), token)).Entries;

        Assert.Equal(Size, afterPut.Size);
        Assert.Single(afterGet);
        Assert.True(await TestFiles.ContentEqualsAsync(source, local.Combine("copy.bin"), token));
    }

    [Fact(Timeout = 60000)]
    public async Task A_body_that_arrives_in_small_pieces_with_a_short_tail_is_received_whole()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server) { Plan = FaultPlan.Both(DirectionFaults.Slice(1000)) };
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 82, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["put", source, "big.bin"], token);
        var get = await CliRunner.RunAsync(proxy.Address, ["get", "big.bin", local.Combine("copy.bin")], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.True(await TestFiles.ContentEqualsAsync(source, local.Combine("copy.bin"), token));
    }
}
