using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Client.Tests;

/// <summary>
/// Ranged gets from a queue through the client library against the real server: one connection takes range after
/// range, each written in place and checked by its own hash, a range's held bytes offered and not sent again.
/// </summary>
public class RangedDownloadTests
{
    private const int Size = 1024 * 1024 + 321;

    [Fact(Timeout = 60000)]
    public async Task Ranges_from_a_queue_arrive_one_after_the_other_and_a_held_prefix_is_not_sent_again()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await TestFiles.WriteRandomAsync(server.PathOf("f.bin"), Size, seed: 81, token);
        var content = await File.ReadAllBytesAsync(server.PathOf("f.bin"), token);
        await using var client = await LibraryTests.ConnectAsync(server, HashAlgorithms.Sha256);
        using var local = new TempDirectory();
        var schedule = FileRange.Schedule(Size, streams: 2, minimum: 64 * 1024);

        // An earlier try left the first 1,000 bytes of the second range.
        var destination = local.Combine("f.bin");
        await File.WriteAllBytesAsync(destination, new byte[Size], token);
        await using (var partial = File.OpenWrite(destination))
        {
            partial.Position = schedule[1].Offset;
            await partial.WriteAsync(content.AsMemory((int)schedule[1].Offset, 1000), token);
        }

        var held = new long[schedule.Count];
        held[1] = 1000;
        var holds = new long[schedule.Count];
        var received = new FileXferClient.RangeReceived[schedule.Count];
        using (var handle = File.OpenHandle(destination, FileMode.Open, FileAccess.ReadWrite))
        {
            await client.GetRangesAsync(handle, new RangeQueue(schedule), "f.bin", held, (i, bytes) => holds[i] = bytes, received, written: null, progress: null, token);
        }

        Assert.Equal(content, await File.ReadAllBytesAsync(destination, token));
        Assert.Equal(schedule.Select(r => r.Length), holds);
        Assert.Equal(1000, received[1].Start);
        Assert.All(received.Where((_, i) => i != 1), r => Assert.Equal(0, r.Start));
        Assert.All(received, r => Assert.Equal(Size, r.Size));

        // The connection stays in step for the next request.
        Assert.Equal(Size, (await client.StatAsync("f.bin", token)).Size);
    }

    [Fact(Timeout = 60000)]
    public async Task A_connection_whose_rate_is_not_known_yet_takes_the_next_range_only_after_the_current_one()
    {
        // The client's clock stands still: no rate is measured, so no lead, and the second range stays in the queue
        // until the first one's body arrived (it used to be taken as soon as the first one's Data came).
        var taken = await GetTwoRangesAsync(new FakeTimeProvider(), advancePerWrite: TimeSpan.Zero, TestContext.Current.CancellationToken);
        Assert.Equal([false, true], taken);
    }

    [Fact(Timeout = 60000)]
    public async Task A_connection_with_a_measured_rate_asks_for_the_next_range_before_the_current_ones_end()
    {
        // The clock moves as the bytes arrive, and the handshake took no time on it (a round trip of 0): the lead is
        // 0, so the next range's Get goes out from within the body, behind its last byte and before its BodyEnd is read.
        var taken = await GetTwoRangesAsync(new FakeTimeProvider(), advancePerWrite: TimeSpan.FromMilliseconds(1), TestContext.Current.CancellationToken);
        Assert.Equal([true, true], taken);
    }

    /// <summary>
    /// Gets a file of two ranges longer than 1 MiB over one connection on <paramref name="time"/>, moved by
    /// <paramref name="advancePerWrite"/> at each write of received bytes; checks the file and that the connection
    /// stayed in step. Returns, for each range, whether the queue was drained when the range was done.
    /// </summary>
    private static async Task<bool[]> GetTwoRangesAsync(FakeTimeProvider time, TimeSpan advancePerWrite, CancellationToken token)
    {
        const int Large = 5 * 1024 * 1024 + 77;
        await using var server = new TestServer();
        await TestFiles.WriteRandomAsync(server.PathOf("f.bin"), Large, seed: 82, token);
        var content = await File.ReadAllBytesAsync(server.PathOf("f.bin"), token);
        var options = new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256, TimeProvider = time };
        await using var client = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), options, token);
        using var local = new TempDirectory();
        FileRange[] ranges = [new(0, 3 * 1024 * 1024 + 5), new(3 * 1024 * 1024 + 5, Large - (3 * 1024 * 1024 + 5))];
        var queue = new RangeQueue(ranges);
        var destination = local.Combine("f.bin");
        await File.WriteAllBytesAsync(destination, new byte[Large], token);
        var drained = new bool[ranges.Length];
        var received = new FileXferClient.RangeReceived[ranges.Length];
        using (var handle = File.OpenHandle(destination, FileMode.Open, FileAccess.ReadWrite))
        {
            await client.GetRangesAsync(handle, queue, "f.bin", new long[ranges.Length], (i, _) => drained[i] = queue.Drained.IsCompleted, received, written: null, progress: _ => time.Advance(advancePerWrite), token);
        }

        Assert.Equal(content, await File.ReadAllBytesAsync(destination, token));
        Assert.Equal(Large, (await client.StatAsync("f.bin", token)).Size);
        return drained;
    }
}
