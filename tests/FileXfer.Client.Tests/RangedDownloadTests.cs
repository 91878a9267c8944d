using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

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
}
