using FileXfer.Protocol.Net;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// A large put over plain TCP sends the file with sendfile(2) and hashes it by a second read on another thread: the
/// server, which hashes what arrives, is the judge of whether the two agree. A file changed or cut short while it
/// is sent is refused and nothing is stored under its name.
/// </summary>
public class ZeroCopyPutTests
{
    private const long Size = 32L * 1024 * 1024;

    [Fact(Timeout = 60000)]
    public async Task A_large_put_and_its_resumed_rest_arrive_whole()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size + 12345, seed: 71, token);

        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(Size / 2, reset: true)));
        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "3", "put", source, "big.bin"], token);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.Contains("resumed after", put.Stdout, StringComparison.Ordinal);
        Assert.True(await TestFiles.ContentEqualsAsync(source, server.PathOf("big.bin"), token));
    }

    [Fact(Timeout = 60000)]
    public async Task A_file_changed_in_place_while_it_is_sent_is_refused_and_nothing_is_stored()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server) { Plan = FaultPlan.Up(DirectionFaults.Stall(Size / 4)) };
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 72, token);
        await using var client = await ConnectAsync(proxy, zeroCopy: true);

        var put = client.UploadFileAsync(source, "big.bin", progress: null, token);
        var error = await ChangeWhileStalledAsync(proxy, source, put, token);

        Assert.Contains("changed while it was being sent; nothing was stored", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(server.PathOf("big.bin")));
    }

    [Fact(Timeout = 60000)]
    public async Task Copied_through_a_buffer_the_same_change_is_stored_as_read_and_reported()
    {
        // The contrast that shows the put above went by sendfile: through a buffer, the bytes hashed are the bytes
        // sent, so the server stores the file as it was read, and only the check after the put sees the change.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server) { Plan = FaultPlan.Up(DirectionFaults.Stall(Size / 4)) };
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 73, token);
        await using var client = await ConnectAsync(proxy, zeroCopy: false);

        var put = client.UploadFileAsync(source, "big.bin", progress: null, token);
        var error = await ChangeWhileStalledAsync(proxy, source, put, token);

        Assert.Contains("the stored copy may not match it", error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(server.PathOf("big.bin")));
    }

    [Fact(Timeout = 60000)]
    public async Task A_file_cut_short_while_it_is_sent_stores_nothing()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server) { Plan = FaultPlan.Up(DirectionFaults.Stall(Size / 4)) };
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 74, token);
        await using var client = await ConnectAsync(proxy, zeroCopy: true);

        var put = client.UploadFileAsync(source, "big.bin", progress: null, token);
        await Assert.Single(proxy.AcceptedConnections).Upstream.StallStarted.WaitAsync(token);
        File.SetAttributes(source, FileAttributes.Normal);
        await using (var file = new FileStream(source, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(Size / 2);
        }

        proxy.ReleaseStalls();
        var error = await Assert.ThrowsAsync<SourceChangedException>(() => put);

        Assert.Contains("shrank", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(server.PathOf("big.bin")));
    }

    private static async Task<SourceChangedException> ChangeWhileStalledAsync(FaultProxy proxy, string source, Task put, CancellationToken token)
    {
        await Assert.Single(proxy.AcceptedConnections).Upstream.StallStarted.WaitAsync(token);
        // The hash's own read of 32 MiB ends within milliseconds; the send is held at a quarter by the proxy and the
        // socket buffers, so the last bytes are changed after they were hashed and before they are sent.
        await Task.Delay(TimeSpan.FromSeconds(2), token);
        await using (var file = new FileStream(source, FileMode.Open, FileAccess.Write))
        {
            file.Position = Size - 10;
            file.WriteByte(0x5A);
            file.WriteByte(0xA5);
        }

        proxy.ReleaseStalls();
        return await Assert.ThrowsAsync<SourceChangedException>(() => put);
    }

    private static Task<FileXferClient> ConnectAsync(FaultProxy proxy, bool zeroCopy) =>
        FileXferClient.ConnectAsync(
            new HostPort("127.0.0.1", proxy.EndPoint.Port),
            new FileXferClientOptions { ZeroCopy = zeroCopy },
            TestContext.Current.CancellationToken);
}
