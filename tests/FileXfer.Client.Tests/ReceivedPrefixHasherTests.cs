using System.Security.Cryptography;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Ranges;
using Microsoft.Win32.SafeHandles;

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
        await using var file = await ReceivedFile.CreateAsync(local.Combine("f.bin"), token);
        var ranges = file.Ranges;
        var last = ranges[^1];

        // Every range but the last arrives (in an order of their own), and the hash catches up with them.
        foreach (int i in Enumerable.Range(0, ranges.Count - 1).Reverse())
        {
            file.Arrive(i, content);
        }

        await file.Follower.HashedThroughAsync(last.Offset);
        file.Arrive(ranges.Count - 1, content);
        var hash = await file.Follower.FinishAsync(token);

        Assert.Equal(SHA256.HashData(content), hash);
        Assert.InRange(file.Follower.RemainingAtFinish, 0, last.Length);
        Assert.Equal(0, file.Follower.Restarts);
    }

    [Fact(Timeout = 60000)]
    public async Task A_range_fetched_again_after_its_bytes_were_hashed_makes_the_hash_start_over()
    {
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        var content = TestFiles.RandomBytes(Size, seed: 95);
        await using var file = await ReceivedFile.CreateAsync(local.Combine("f.bin"), token);
        var ranges = file.Ranges;

        // The first range arrives corrupted, and the hash reads it before its check fails.
        var corrupted = (byte[])content.Clone();
        corrupted[1000] ^= 1;
        file.Arrive(0, corrupted);
        await file.Follower.HashedThroughAsync(ranges[0].End);

        // It is fetched again, and the others arrive.
        file.Written[0].Rewind(0);
        for (int i = 0; i < ranges.Count; i++)
        {
            file.Arrive(i, content);
        }

        var hash = await file.Follower.FinishAsync(token);

        Assert.Equal(SHA256.HashData(content), hash);
        Assert.Equal(1, file.Follower.Restarts);
    }

    /// <summary>A file of <see cref="Size"/> zero bytes received in the ranges a two-stream get cuts, followed as <see cref="ParallelTransfer"/> follows it.</summary>
    private sealed class ReceivedFile : IAsyncDisposable
    {
        private readonly SafeFileHandle _handle;

        private ReceivedFile(SafeFileHandle handle)
        {
            _handle = handle;
            Ranges = FileRange.Schedule(Size, streams: 2, minimum: 512 * 1024);
            Follower = new WrittenPrefixHasher(handle, Size, HashAlgorithms.Sha256, ParallelTransfer.HashWakeBytes);
            Written = [.. Ranges.Select(Follower.Add)];
        }

        public IReadOnlyList<FileRange> Ranges { get; }

        public WrittenPrefixHasher Follower { get; }

        public WrittenRange[] Written { get; }

        public static async Task<ReceivedFile> CreateAsync(string path, CancellationToken cancellationToken)
        {
            await File.WriteAllBytesAsync(path, new byte[Size], cancellationToken);
            return new ReceivedFile(File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite));
        }

        /// <summary>Range <paramref name="index"/> arrives, its bytes taken from <paramref name="content"/>.</summary>
        public void Arrive(int index, byte[] content)
        {
            var range = Ranges[index];
            RandomAccess.Write(_handle, content.AsSpan((int)range.Offset, (int)range.Length), range.Offset);
            Written[index].Wrote(range.Length);
        }

        public async ValueTask DisposeAsync()
        {
            await Follower.DisposeAsync();
            _handle.Dispose();
        }
    }
}
