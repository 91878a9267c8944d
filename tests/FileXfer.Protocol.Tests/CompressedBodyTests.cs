using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Transfer;
using FsCheck.Xunit;

namespace FileXfer.Protocol.Tests;

/// <summary>
/// Compressed bodies (BodyEncoding.ZstdBlocks): what a <see cref="FrameWriter"/> sends, a <see cref="ProtocolReader"/>
/// reads back byte for byte with the hash of the original bytes; every malformed block is a protocol violation.
/// </summary>
public class CompressedBodyTests
{
    /// <summary>Text that compresses (a log), <paramref name="size"/> bytes.</summary>
    internal static byte[] Compressible(int size, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        while (text.Length < size)
        {
            text.Append(FormattableString.Invariant($"2026-12-07T01:{random.Next(60):00}:{random.Next(60):00}Z info: request {random.Next(100000)} from 10.0.{random.Next(256)}.{random.Next(256)} took {random.Next(1000)} ms\n"));
        }

        return Encoding.ASCII.GetBytes(text.ToString())[..size];
    }

    private static async Task<byte[]> SendAsync(byte[] data, bool chunked, uint requestId = 7)
    {
        using var wire = new MemoryStream();
        using (var writer = new FrameWriter(wire))
        using (var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256))
        {
            if (chunked)
            {
                var sent = await writer.WriteCompressedChunkedBodyAsync(new MemoryStream(data), data.Length, hasher, requestId, null, TestContext.Current.CancellationToken);
                Assert.False(sent.Aborted);
            }
            else
            {
                await writer.WriteCompressedBodyAsync(new MemoryStream(data), data.Length, hasher, requestId, null, TestContext.Current.CancellationToken);
            }

            await writer.FlushAsync(TestContext.Current.CancellationToken);
        }

        return wire.ToArray();
    }

    private static async Task<(byte[] Data, byte[] Hash, long Progress, Frame? End)> ReceiveAsync(byte[] wire, long length, bool chunked, int maxChunk = 1 << 20, long? limit = null)
    {
        using var reader = new ProtocolReader(new TrickleStream(wire, maxChunk));
        using var destination = new MemoryStream();
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);
        long progress = 0;
        if (chunked)
        {
            var body = await reader.CopyCompressedChunkedBodyToAsync(destination, limit ?? length, hasher, n => progress += n, TestContext.Current.CancellationToken);
            Assert.False(body.Aborted);
            Assert.Equal(length, body.Length);
        }
        else
        {
            await reader.CopyCompressedBodyToAsync(destination, length, hasher, n => progress += n, TestContext.Current.CancellationToken);
        }

        return (destination.ToArray(), hasher.GetHashAndReset(), progress, await reader.ReadFrameAsync(TestContext.Current.CancellationToken));
    }

    [Property(MaxTest = 60)]
    public void Any_body_round_trips_with_the_hash_and_progress_of_its_original_bytes(int seed, bool compressible, bool chunked, byte sizeKind)
    {
        int size = (sizeKind % 4) switch
        {
            0 => new Random(seed).Next(0, 100),
            1 => new Random(seed).Next(100, 70_000),
            2 => BlockCodec.BlockLength + new Random(seed).Next(-1, 2),
            _ => new Random(seed).Next(1, 3 * BlockCodec.BlockLength),
        };
        var data = compressible ? Compressible(size, seed) : ProtocolReaderTests.RandomBytes(size, seed);

        var wire = SendAsync(data, chunked).GetAwaiter().GetResult();
        var (received, hash, progress, end) = ReceiveAsync(wire, size, chunked, maxChunk: 1 + (seed & 0x7fff), limit: chunked && seed % 2 == 0 ? ProtocolLimits.MaxBodySize : size).GetAwaiter().GetResult();

        Assert.Equal(data, received);
        Assert.Equal(SHA256.HashData(data), hash);
        Assert.Equal(SHA256.HashData(data), end!.GetBytes(FieldTag.HashValue));
        Assert.Equal(size, progress);
        if (compressible && size >= 4096)
        {
            Assert.True(wire.Length < size / 2, $"{size} compressible bytes took {wire.Length} on the wire");
        }
        else if (!compressible)
        {
            // Stored: each block costs its 8-byte header, nothing more (plus the BodyEnd frame and a chunked end).
            int blocks = (size + BlockCodec.BlockLength - 1) / BlockCodec.BlockLength;
            Assert.True(wire.Length <= size + (BlockCodec.HeaderLength * (blocks + 1)) + 100, $"{size} random bytes took {wire.Length}");
        }
    }

    [Property(MaxTest = 500)]
    public void Any_header_is_either_valid_within_its_limits_or_a_protocol_violation(ulong raw, long limit, bool chunked)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(header, raw);
        limit = Math.Abs(limit % (4L * BlockCodec.MaxBlockLength));
        try
        {
            var read = BlockCodec.ReadHeader(header, limit, chunked);
            if (read.Kind is BlockKind.End or BlockKind.Abort)
            {
                Assert.True(chunked);
                return;
            }

            Assert.InRange(read.OriginalLength, 1, Math.Min(BlockCodec.MaxBlockLength, limit));
            Assert.InRange(read.WireLength, 1, read.OriginalLength);
            Assert.Equal(read.WireLength == read.OriginalLength, read.Kind == BlockKind.Stored);
        }
        catch (ProtocolViolationException)
        {
            // The other outcome allowed.
        }
    }

    [Property(MaxTest = 200)]
    public void Any_payload_decodes_to_exactly_its_length_or_is_a_protocol_violation(byte[] payload, ushort length)
    {
        var destination = new byte[(length % 4096) + 1];
        using var decompressor = BlockCodec.CreateDecompressor();
        try
        {
            BlockCodec.Decompress(payload, destination, decompressor);
        }
        catch (ProtocolViolationException)
        {
            // Refused: the only other outcome.
        }
    }

    [Fact]
    public void A_block_that_does_not_shrink_by_a_sixteenth_is_stored()
    {
        var data = ProtocolReaderTests.RandomBytes(4096, seed: 1);
        var destination = new byte[BlockCodec.MaxEncodedLength(data.Length)];
        using var compressor = BlockCodec.CreateCompressor();

        var (written, compressed) = BlockCodec.Encode(data, destination, compressor);

        Assert.False(compressed);
        Assert.Equal(BlockCodec.HeaderLength + data.Length, written);
        Assert.Equal(data, destination[8..written]);
        Assert.Equal(new BlockHeader(BlockKind.Stored, 4096, 4096), BlockCodec.ReadHeader(destination, 4096, chunked: false));
    }

    /// <summary>A body on the wire: its blocks, each as a header and a payload.</summary>
    private static byte[] Block(int original, int wireLength, byte[] payload) =>
    [
        .. BitConverter.IsLittleEndian ? BitConverter.GetBytes(original).Reverse() : BitConverter.GetBytes(original),
        .. BitConverter.IsLittleEndian ? BitConverter.GetBytes(wireLength).Reverse() : BitConverter.GetBytes(wireLength),
        .. payload,
    ];

    private static byte[] Zstd(byte[] data)
    {
        using var compressor = new ZstdSharp.Compressor(1);
        return compressor.Wrap(data).ToArray();
    }

    public static TheoryData<string> Malformed => ["bomb", "short", "corrupt", "too-big", "past-end", "wire-longer", "zero", "end-in-fixed"];

    [Theory(Timeout = 10000)]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_block_is_a_protocol_violation_and_nothing_of_it_is_written(string kind)
    {
        var zeros = Zstd(new byte[BlockCodec.MaxBlockLength]);
        var text = Compressible(10_000, seed: 3);
        var packed = Zstd(text);
        var corrupt = packed.ToArray();
        corrupt[corrupt.Length / 2] ^= 0xff;
        corrupt[(corrupt.Length / 2) + 1] ^= 0x5a;
        byte[] wire = kind switch
        {
            // 1 MiB of zeros that claims to be 100 bytes: the decoder may write no more than 100.
            "bomb" => Block(100, zeros.Length, zeros),
            "short" => Block(20_000, packed.Length, packed),
            "corrupt" => Block(text.Length, corrupt.Length, corrupt),
            "too-big" => Block(BlockCodec.MaxBlockLength + 1, 10, new byte[10]),
            "past-end" => Block(text.Length + 1, packed.Length, packed),
            "wire-longer" => Block(10, 11, new byte[11]),
            "zero" => Block(0, 5, new byte[5]),
            _ => Block(0, 0, []),
        };
        long length = kind == "past-end" ? text.Length : kind is "bomb" ? 100 : kind is "short" ? 20_000 : BlockCodec.MaxBlockLength;
        using var reader = new ProtocolReader(new MemoryStream(wire));
        using var destination = new MemoryStream();

        await Assert.ThrowsAsync<ProtocolViolationException>(
            () => reader.CopyCompressedBodyToAsync(destination, length, hasher: null, progress: null, TestContext.Current.CancellationToken));

        Assert.Equal(0, destination.Length);
    }

    [Fact(Timeout = 10000)]
    public async Task A_connection_that_ends_inside_a_block_is_lost_with_the_earlier_blocks_kept()
    {
        var data = Compressible(3 * BlockCodec.BlockLength, seed: 4);
        var wire = await SendAsync(data, chunked: false);
        var first = BlockCodec.ReadHeader(wire, data.Length, chunked: false);
        int cut = BlockCodec.HeaderLength + first.WireLength + BlockCodec.HeaderLength + 10;
        using var reader = new ProtocolReader(new MemoryStream(wire[..cut]));
        using var destination = new MemoryStream();

        await Assert.ThrowsAsync<ConnectionLostException>(
            () => reader.CopyCompressedBodyToAsync(destination, data.Length, hasher: null, progress: null, TestContext.Current.CancellationToken));

        // Whole blocks only, in original bytes: what a resumed put continues after.
        Assert.Equal(data[..BlockCodec.BlockLength], destination.ToArray());
    }

    [Theory(Timeout = 10000)]
    [InlineData(0L, "the source ended after")]
    [InlineData(2L, "the source grew past")]
    public async Task A_chunked_compressed_body_whose_source_changes_is_aborted_and_read_as_aborted(long delta, string reason)
    {
        var data = Compressible(BlockCodec.BlockLength + 5000, seed: 5);
        long declared = data.Length + (delta == 0 ? 100 : -delta);
        using var wire = new MemoryStream();
        using (var writer = new FrameWriter(wire))
        using (var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256))
        {
            var sent = await writer.WriteCompressedChunkedBodyAsync(new MemoryStream(data), declared, hasher, 3, null, TestContext.Current.CancellationToken);
            Assert.StartsWith(reason, sent.AbortReason, StringComparison.Ordinal);
            await writer.WriteAsync(Messages.PathRequest(MessageType.Stat, 4, "next"), TestContext.Current.CancellationToken);
            await writer.FlushAsync(TestContext.Current.CancellationToken);
        }

        using var reader = new ProtocolReader(new MemoryStream(wire.ToArray()));
        var body = await reader.CopyCompressedChunkedBodyToAsync(Stream.Null, declared, hasher: null, progress: null, TestContext.Current.CancellationToken);

        Assert.True(body.Aborted);
        Assert.Equal(MessageType.Stat, (await reader.ReadFrameAsync(TestContext.Current.CancellationToken))!.Type);
    }

    [Fact(Timeout = 10000)]
    public async Task A_chunked_compressed_body_past_its_limit_is_refused_from_the_header()
    {
        var data = Compressible(10_000, seed: 6);
        var wire = await SendAsync(data, chunked: true);
        using var reader = new ProtocolReader(new MemoryStream(wire));
        using var destination = new MemoryStream();

        await Assert.ThrowsAsync<ProtocolViolationException>(
            () => reader.CopyCompressedChunkedBodyToAsync(destination, 9_999, hasher: null, progress: null, TestContext.Current.CancellationToken));

        Assert.Equal(0, destination.Length);
    }

    [Fact(Timeout = 30000)]
    public async Task Incompressible_data_goes_stored_at_eight_bytes_a_block()
    {
        // 40 blocks of random bytes: whether tried (blocks 0, 2, 5, 10, 19, 36) or skipped, all stored.
        var data = ProtocolReaderTests.RandomBytes(40 * BlockCodec.BlockLength, seed: 7);
        TestContext.Current.CancellationToken.ThrowIfCancellationRequested();
        var wire = await SendAsync(data, chunked: false);
        var (received, _, _, _) = await ReceiveAsync(wire, data.Length, chunked: false);

        Assert.Equal(data, received);
        Assert.Equal(data.Length + (40 * BlockCodec.HeaderLength), wire.Length - FrameCodec.GetEncodedLength(Messages.BodyEnd(7, HashAlgorithms.Sha256, new byte[32])));
    }

    [Fact]
    public void An_unknown_body_encoding_is_a_protocol_violation_and_plain_is_never_sent()
    {
        var get = Messages.Get(1, "a", HashAlgorithms.Sha256);

        Assert.Same(get, Messages.WithEncoding(get, BodyEncoding.Plain));
        Assert.Equal(BodyEncoding.ZstdBlocks, Messages.ReadEncoding(Messages.WithEncoding(get, BodyEncoding.ZstdBlocks)));
        Assert.Equal(BodyEncoding.Plain, Messages.ReadEncoding(get));
        Assert.Throws<ProtocolViolationException>(() => Messages.ReadEncoding(new Frame(MessageType.Get, 1, [.. get.Fields, Field.Unsigned(FieldTag.BodyEncoding, 2)])));
    }

    [Fact(Timeout = 10000)]
    public async Task The_documented_examples_are_what_the_sender_writes()
    {
        // docs/PROTOCOL.md, "Compressed body": "abc" as one stored block, and 64 times "ab" as one zstd block.
        TestContext.Current.CancellationToken.ThrowIfCancellationRequested();
        var stored = await SendAsync("abc"u8.ToArray(), chunked: false, requestId: 2);
        var packed = await SendAsync(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("ab", 64))), chunked: false, requestId: 2);
        int bodyEnd = FrameCodec.GetEncodedLength(Messages.BodyEnd(2, HashAlgorithms.Sha256, new byte[32]));

        Assert.Equal("00000003" + "00000003" + "616263", Convert.ToHexStringLower(stored[..^bodyEnd]));
        Assert.Equal(ZstdExample, Convert.ToHexStringLower(packed[..^bodyEnd]));
    }

    private const string ZstdExample = "00000080" + "00000012" + "28b52ffd" + "20" + "80" + "4d0000" + "106162" + "0100bbd46101";
}
