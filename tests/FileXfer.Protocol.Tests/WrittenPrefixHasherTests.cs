using System.Security.Cryptography;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Ranges;
using FsCheck.Xunit;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Protocol.Tests;

/// <summary>
/// The whole-file hash of a file whose ranges are written concurrently (<see cref="WrittenPrefixHasher"/>), over real
/// files: whatever the ranges' layout, the order and interleaving of their writes, and the ranges written again after
/// the hash read them, the hash is the SHA-256 of the bytes the file finally holds; disposing it stops its pass.
/// </summary>
public sealed class WrittenPrefixHasherTests : IDisposable
{
    private const int Chunk = 64 * 1024;

    private readonly string _directory = Directory.CreateTempSubdirectory("filexfer-prefix-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact(Timeout = 60000)]
    public async Task Ranges_added_out_of_order_and_written_concurrently_hash_to_the_whole_file()
    {
        var token = TestContext.Current.CancellationToken;
        const int size = (7 * 1024 * 1024) + 12345;
        var content = Bytes(size, seed: 1);
        using var handle = Create(size);
        await using var hasher = new WrittenPrefixHasher(handle, size, HashAlgorithms.Sha256);
        var ranges = FileRange.Schedule(size, streams: 4, minimum: 512 * 1024);
        var written = ranges.Reverse().Select(hasher.Add).Reverse().ToArray();

        // Each range by its own writer, in chunks, all at once: the last range first.
        await Task.WhenAll(written.Reverse().Select(range => Task.Run(() => WriteAsync(handle, content, range, token), token)));
        var hash = await hasher.FinishAsync(token);

        Assert.Equal(SHA256.HashData(content), hash);
        Assert.Equal(0, hasher.Restarts);
        Assert.InRange(hasher.RemainingAtFinish, 0, size);
    }

    [Fact(Timeout = 60000)]
    public async Task A_range_rewound_below_where_the_pass_read_makes_it_start_over_and_keeps_the_held_bytes()
    {
        var token = TestContext.Current.CancellationToken;
        const int held = 100_000;
        await using var file = new TwoRanges(Create, (5 * 1024 * 1024) + 77, cut: 4 * 1024 * 1024, seed: 2);

        // The first range arrives corrupted after its held bytes, and the pass reads into it...
        var corrupted = (byte[])file.Content.Clone();
        corrupted[held + 400_000] ^= 0x5A;
        await file.WriteAsync(file.First, token, corrupted);
        await file.Hasher.HashedThroughAsync(1024 * 1024);

        // ...then, while it may still be reading, the range is rewound to what it held and written again from there.
        file.First.Rewind(held);
        Assert.Equal(held, file.First.Written);
        await file.WriteAsync(file.First, token, from: held);
        await file.WriteAsync(file.Second, token);
        await file.AssertHashAsync(restarts: 1, token);
    }

    [Fact(Timeout = 60000)]
    public async Task A_range_rewound_beyond_what_the_pass_could_read_does_not_make_it_start_over()
    {
        var token = TestContext.Current.CancellationToken;
        await using var file = new TwoRanges(Create, 3 * 1024 * 1024, cut: 1024 * 1024, seed: 3);

        // The first range is not written yet, so the pass cannot have read the second's corrupted bytes.
        await file.WriteAsync(file.Second, token, Inverted(file.Content));
        file.Second.Rewind(0);
        await Task.WhenAll(file.WriteAsync(file.Second, token), file.WriteAsync(file.First, token));
        await file.AssertHashAsync(restarts: 0, token);
    }

    [Fact(Timeout = 60000)]
    public async Task The_pass_waits_for_the_wake_bytes_or_a_range_end()
    {
        var token = TestContext.Current.CancellationToken;
        await using var file = new TwoRanges(Create, 2 * 1024 * 1024, cut: 1024 * 1024, seed: 4, wakeBytes: 256 * 1024);

        RandomAccess.Write(file.Handle, file.Content.AsSpan(0, 1000), 0);
        file.First.Wrote(1000);
        Assert.False(file.Hasher.Following);

        await file.WriteAsync(file.First, token, from: 1000);
        await file.Hasher.HashedThroughAsync(file.First.Range.End);
        await file.WriteAsync(file.Second, token);
        await file.AssertHashAsync(restarts: 0, token);
    }

    [Fact(Timeout = 60000)]
    public async Task Disposing_while_the_pass_reads_stops_it_and_waits_for_it()
    {
        var token = TestContext.Current.CancellationToken;
        const int size = 64 * 1024 * 1024;
        var handle = Create(size);
        var hasher = new WrittenPrefixHasher(handle, size, HashAlgorithms.Sha256);
        var range = hasher.Add(new FileRange(0, size));

        // The file is sparse: every byte of it is there to read back at once, and the pass is on its way through it.
        range.Wrote(size);
        await hasher.HashedThroughAsync(1024 * 1024);
        await hasher.DisposeAsync();
        handle.Dispose();

        Assert.False(hasher.Following);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => hasher.FinishAsync(token));
        range.Wrote(0);
        Assert.False(hasher.Following);
    }

    [Fact(Timeout = 60000)]
    public async Task Ranges_that_overlap_or_leave_the_file_are_refused_and_a_file_with_a_gap_is_not_hashed()
    {
        var token = TestContext.Current.CancellationToken;
        const int size = 1024 * 1024;
        using var handle = Create(size);
        await using var hasher = new WrittenPrefixHasher(handle, size, HashAlgorithms.Sha256);
        var first = hasher.Add(new FileRange(0, 1000));
        var last = hasher.Add(new FileRange(2000, size - 2000));

        Assert.Throws<ArgumentException>(() => hasher.Add(new FileRange(500, 1000)));
        Assert.Throws<ArgumentException>(() => hasher.Add(new FileRange(1000, size)));
        Assert.Throws<ArgumentException>(() => hasher.Add(new FileRange(1500, 0)));

        // Every range is written, but bytes 1000 to 2000 are in none.
        first.Wrote(1000);
        last.Wrote(size - 2000);
        await Assert.ThrowsAsync<InvalidOperationException>(() => hasher.FinishAsync(token));
    }

    /// <summary>
    /// Any layout of ranges over a file of up to 3 MiB, written chunk by chunk in any interleaving, some of them first
    /// with wrong bytes from any point on, then rewound to that point and written again: the hash is the file's.
    /// </summary>
    [Property(MaxTest = 60, Timeout = 120000)]
    public async Task Any_layout_write_order_and_rewinds_hash_to_the_whole_file(int seed)
    {
        var token = TestContext.Current.CancellationToken;
        var random = new Random(seed);
        int size = random.Next(1, 3 * 1024 * 1024);
        var content = Bytes(size, seed);
        var garbage = Inverted(content);
        using var handle = Create(size);
        await using var hasher = new WrittenPrefixHasher(handle, size, HashAlgorithms.Sha256, wakeBytes: random.Next(2) * 256 * 1024);
        var writers = Layout(size, random).Select(range => new Writer(hasher.Add(range), random.Next(4) == 0 ? random.NextInt64(range.Length) : -1)).ToList();

        while (writers.Count > 0)
        {
            int i = random.Next(writers.Count);
            var writer = writers[i];
            var range = writer.Range.Range;
            bool wrong = writer.Corrupt && writer.Position >= writer.Held;
            long left = (writer.Corrupt && !wrong ? writer.Held : range.Length) - writer.Position;
            int count = (int)Math.Min(random.Next(1, 256 * 1024), left);
            RandomAccess.Write(handle, (wrong ? garbage : content).AsSpan((int)(range.Offset + writer.Position), count), range.Offset + writer.Position);
            writer.Range.Wrote(count);
            writer.Position += count;
            if (writer.Position < range.Length)
            {
                continue;
            }

            if (writer.Corrupt)
            {
                // Its bytes failed their check: it keeps those before the wrong ones, and the rest is written again.
                writer.Position = writer.Held;
                writer.Held = -1;
                writer.Range.Rewind(writer.Position);
                if (random.Next(2) == 0)
                {
                    await Task.Yield();
                }
            }
            else
            {
                writers.RemoveAt(i);
            }
        }

        Assert.Equal(SHA256.HashData(content), await hasher.FinishAsync(token));
    }

    /// <summary>The file cut at up to 7 random points.</summary>
    private static List<FileRange> Layout(int size, Random random)
    {
        var cuts = Enumerable.Range(0, random.Next(8)).Select(_ => random.Next(1, size)).Append(0).Append(size).Distinct().Order().ToList();
        return cuts.Zip(cuts.Skip(1), (start, end) => new FileRange(start, end - start)).ToList();
    }

    private static async Task WriteAsync(SafeFileHandle handle, byte[] content, WrittenRange range, CancellationToken cancellationToken, long from = 0)
    {
        for (long at = from; at < range.Range.Length; at += Chunk)
        {
            int count = (int)Math.Min(Chunk, range.Range.Length - at);
            long offset = range.Range.Offset + at;
            await RandomAccess.WriteAsync(handle, content.AsMemory((int)offset, count), offset, cancellationToken);
            range.Wrote(count);
        }
    }

    private SafeFileHandle Create(long size)
    {
        var handle = File.OpenHandle(Path.Combine(_directory, Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.Asynchronous);
        RandomAccess.SetLength(handle, size);
        return handle;
    }

    private static byte[] Bytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Inverted(byte[] content) => content.Select(b => (byte)~b).ToArray();

    /// <summary>A file of random content cut in two ranges at <c>cut</c>, nothing written yet, and its hasher.</summary>
    private sealed class TwoRanges : IAsyncDisposable
    {
        public TwoRanges(Func<long, SafeFileHandle> create, int size, long cut, int seed, long wakeBytes = 0)
        {
            Content = Bytes(size, seed);
            Handle = create(size);
            Hasher = new WrittenPrefixHasher(Handle, size, HashAlgorithms.Sha256, wakeBytes);
            First = Hasher.Add(new FileRange(0, cut));
            Second = Hasher.Add(new FileRange(cut, size - cut));
        }

        public byte[] Content { get; }

        public SafeFileHandle Handle { get; }

        public WrittenPrefixHasher Hasher { get; }

        public WrittenRange First { get; }

        public WrittenRange Second { get; }

        /// <summary>Writes <paramref name="range"/> from <paramref name="from"/> on with <paramref name="bytes"/> (else the content).</summary>
        public Task WriteAsync(WrittenRange range, CancellationToken cancellationToken, byte[]? bytes = null, long from = 0) =>
            WrittenPrefixHasherTests.WriteAsync(Handle, bytes ?? Content, range, cancellationToken, from);

        /// <summary>The hash is the content's, after <paramref name="restarts"/> restarts.</summary>
        public async Task AssertHashAsync(int restarts, CancellationToken cancellationToken)
        {
            Assert.Equal(SHA256.HashData(Content), await Hasher.FinishAsync(cancellationToken));
            Assert.Equal(restarts, Hasher.Restarts);
        }

        public async ValueTask DisposeAsync()
        {
            await Hasher.DisposeAsync();
            Handle.Dispose();
        }
    }

    /// <summary>One range's writer: where it is, and (while its bytes are wrong from there on) how many right ones it holds.</summary>
    private sealed class Writer(WrittenRange range, long held)
    {
        public WrittenRange Range { get; } = range;

        public long Held { get; set; } = held;

        public bool Corrupt => Held >= 0;

        public long Position { get; set; }
    }
}
