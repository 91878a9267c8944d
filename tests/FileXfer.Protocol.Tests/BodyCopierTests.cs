using System.Security.Cryptography;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Protocol.Tests;

/// <summary>The "copy exactly what remains" loop.</summary>
public class BodyCopierTests
{
    private const int Trailer = 1000;

    public static TheoryData<int> Sizes => [0, 1, 4095, 4096, 4097, 65535, 65536, 65537, (1 << 20) - 1, 1 << 20, (1 << 20) + 1];

    [Theory(Timeout = 10000)]
    [MemberData(nameof(Sizes))]
    public async Task Copies_exactly_the_length_and_leaves_the_rest_unread(int size)
    {
        var data = ProtocolReaderTests.RandomBytes(size + Trailer, seed: size);
        using var source = new MemoryStream(data);
        using var destination = new MemoryStream();
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);
        long progressed = 0;

        await BodyCopier.CopyExactlyAsync(source, destination, size, hasher, n => progressed += n, TestContext.Current.CancellationToken);

        Assert.Equal(data.AsSpan(0, size).ToArray(), destination.ToArray());
        Assert.Equal(size, source.Position);
        Assert.Equal(size, progressed);
        Assert.Equal(SHA256.HashData(data.AsSpan(0, size)), hasher.GetHashAndReset());
    }

    [Theory(Timeout = 10000)]
    [MemberData(nameof(Sizes))]
    public async Task Copies_exactly_the_length_from_a_stream_that_returns_short_reads(int size)
    {
        var data = ProtocolReaderTests.RandomBytes(size + Trailer, seed: size + 1);
        var source = new TrickleStream(data, maxChunk: size < 70_000 ? 1 : 4093);
        using var destination = new MemoryStream();

        await BodyCopier.CopyExactlyAsync(source, destination, size, hasher: null, progress: null, TestContext.Current.CancellationToken);

        Assert.Equal(data.AsSpan(0, size).ToArray(), destination.ToArray());
        Assert.Equal(size, source.BytesRead);
    }

    [Theory(Timeout = 10000)]
    [InlineData(0, 1)]
    [InlineData(4096, 4097)]
    [InlineData(65535, 65537)]
    [InlineData(1 << 20, (1 << 20) + 1)]
    public async Task A_source_shorter_than_the_length_is_an_end_of_stream(int available, int length)
    {
        using var source = new MemoryStream(new byte[available]);
        using var destination = new MemoryStream();

        var exception = await Assert.ThrowsAsync<EndOfStreamException>(
            () => BodyCopier.CopyExactlyAsync(source, destination, length, hasher: null, progress: null, TestContext.Current.CancellationToken));

        Assert.Contains($"after {available} of {length} bytes", exception.Message, StringComparison.Ordinal);
        Assert.Equal(available, destination.Length);
    }

    [Fact(Timeout = 10000)]
    public async Task A_length_of_zero_does_not_read_at_all()
    {
        var source = new TrickleStream([1, 2, 3]);

        await BodyCopier.CopyExactlyAsync(source, Stream.Null, 0, hasher: null, progress: null, TestContext.Current.CancellationToken);

        Assert.Equal(0, source.ReadCalls);
    }

    [Fact(Timeout = 10000)]
    public async Task A_negative_length_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => BodyCopier.CopyExactlyAsync(new MemoryStream(), Stream.Null, -1, hasher: null, progress: null, TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = 10000)]
    public async Task A_cancelled_copy_stops()
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => BodyCopier.CopyExactlyAsync(new TrickleStream(new byte[10]), Stream.Null, 10, hasher: null, progress: null, cancellation.Token));
    }

    // Large bodies hash on another thread while the next chunk is read and written.
    public static TheoryData<int> LargeSizes => [4 << 20, (4 << 20) + 1, (9 << 20) + 3];

    [Theory(Timeout = 30000)]
    [MemberData(nameof(LargeSizes))]
    public async Task A_large_copy_hashes_every_byte_in_order_while_copying(int size)
    {
        var data = ProtocolReaderTests.RandomBytes(size + Trailer, seed: size);
        var source = new TrickleStream(data, maxChunk: 65521);
        using var destination = new MemoryStream();
        using var sha = HashAlgorithms.Create(HashAlgorithms.Sha256);
        using var blake = HashAlgorithms.Create(HashAlgorithms.Blake3);
        long progressed = 0;

        await BodyCopier.CopyExactlyAsync(source, destination, size, sha, n => progressed += n, TestContext.Current.CancellationToken);
        await BodyCopier.CopyExactlyAsync(new MemoryStream(data), Stream.Null, size, blake, progress: null, TestContext.Current.CancellationToken);

        Assert.Equal(data.AsSpan(0, size).ToArray(), destination.ToArray());
        Assert.Equal(size, source.BytesRead);
        Assert.Equal(size, progressed);
        Assert.Equal(SHA256.HashData(data.AsSpan(0, size)), sha.GetHashAndReset());
        Assert.Equal(Blake3.Hasher.Hash(data.AsSpan(0, size)).AsSpan().ToArray(), blake.GetHashAndReset());
    }

    [Fact(Timeout = 30000)]
    public async Task A_large_copy_that_ends_early_keeps_what_arrived_and_says_how_much()
    {
        int available = (5 << 20) + 7;
        int length = 8 << 20;
        var source = new TrickleStream(new byte[available], maxChunk: 100_000);
        using var destination = new MemoryStream();
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);

        var exception = await Assert.ThrowsAsync<EndOfStreamException>(
            () => BodyCopier.CopyExactlyAsync(source, destination, length, hasher, progress: null, TestContext.Current.CancellationToken));

        Assert.Contains($"after {available} of {length} bytes", exception.Message, StringComparison.Ordinal);
        Assert.Equal(available, destination.Length);
    }
}
