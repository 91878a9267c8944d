using System.Security.Cryptography;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Ranges;

namespace FileXfer.Client.Tests;

/// <summary>
/// The whole-file hash of a ranged get, following the received prefix as <see cref="ParallelTransfer"/> sets it up (a
/// <see cref="WrittenPrefixHasher"/> woken every <see cref="ParallelTransfer.HashWakeBytes"/>, the ranges of
/// <see cref="FileRange.Schedule"/>): after the last range it hashes only what it had not reached, and a range
/// written again below what it hashed makes it start over, so the hash is of the bytes the file finally holds.
/// </summary>
public class ReceivedPrefixHasherTests
{
    private const int Size = (3 * 1024 * 1024) + 4321;

    [Fact(Timeout = 60000)]
    public async Task After_the_last_range_only_what_the_ranges_left_is_hashed()
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        var content = TestFiles.RandomBytes(Size, seed: 94);
        var ranges = FileRange.Schedule(Size, streams: 2, minimum: 512 * 1024);
        var path = local.Combine("f.bin");
        await File.WriteAllBytesAsync(path, new byte[Size], token);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        await using var follower = new WrittenPrefixHasher(handle, Size, HashAlgorithms.Sha256, ParallelTransfer.HashWakeBytes);
        var written = ranges.Select(follower.Add).ToArray();
        var last = ranges[^1];

        // Every range but the last arrives (in an order of their own), and the hash catches up with them.
        foreach (int i in Enumerable.Range(0, ranges.Count - 1).Reverse())
        {
            Write(handle, content, ranges[i]);
            written[i].Wrote(ranges[i].Length);
        }

        await follower.HashedThroughAsync(last.Offset);
        Write(handle, content, last);
        written[^1].Wrote(last.Length);
        var hash = await follower.FinishAsync(token);

        Assert.Equal(SHA256.HashData(content), hash);
        Assert.InRange(follower.RemainingAtFinish, 0, last.Length);
        Assert.Equal(0, follower.Restarts);
    }

    [Fact(Timeout = 60000)]
    public async Task A_range_fetched_again_after_its_bytes_were_hashed_makes_the_hash_start_over()
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        var content = TestFiles.RandomBytes(Size, seed: 95);
        var ranges = FileRange.Schedule(Size, streams: 2, minimum: 512 * 1024);
        var path = local.Combine("f.bin");
        await File.WriteAllBytesAsync(path, new byte[Size], token);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        await using var follower = new WrittenPrefixHasher(handle, Size, HashAlgorithms.Sha256, ParallelTransfer.HashWakeBytes);
        var written = ranges.Select(follower.Add).ToArray();

        // The first range arrives corrupted, and the hash reads it before its check fails.
        var corrupted = (byte[])content.Clone();
        corrupted[1000] ^= 1;
        Write(handle, corrupted, ranges[0]);
        written[0].Wrote(ranges[0].Length);
        await follower.HashedThroughAsync(ranges[0].End);

        // It is fetched again, and the others arrive.
        written[0].Rewind(0);
        Write(handle, content, ranges[0]);
        written[0].Wrote(ranges[0].Length);
        for (int i = 1; i < ranges.Count; i++)
        {
            Write(handle, content, ranges[i]);
            written[i].Wrote(ranges[i].Length);
        }

        var hash = await follower.FinishAsync(token);

        Assert.Equal(SHA256.HashData(content), hash);
        Assert.Equal(1, follower.Restarts);
    }

    private static void Write(Microsoft.Win32.SafeHandles.SafeFileHandle handle, byte[] content, FileRange range) =>
        RandomAccess.Write(handle, content.AsSpan((int)range.Offset, (int)range.Length), range.Offset);
}
