using System.Buffers.Binary;
using ZstdSharp;

namespace FileXfer.Protocol.Transfer;

/// <summary>
/// One block of a compressed body (<see cref="BodyEncoding.ZstdBlocks"/>): an 8-byte header, <c>u32 original length |
/// u32 wire length</c> (big-endian), then the wire bytes. Wire length equal to the original length: the bytes are
/// stored as they are; smaller: they are one zstd frame that decodes to exactly the original length; larger: invalid.
/// A header of all zeros ends a chunked body, one of all ones abandons it. Nothing here touches a stream.
/// </summary>
public static class BlockCodec
{
    /// <summary>The bytes of a block header.</summary>
    public const int HeaderLength = 8;

    /// <summary>The most original bytes (and so wire bytes) one block may carry: what bounds a receiver's memory.</summary>
    public const int MaxBlockLength = 1024 * 1024;

    /// <summary>The original bytes in each block this implementation sends (the last one of a body may be shorter).</summary>
    public const int BlockLength = 512 * 1024;

    /// <summary>The zstd level the sender compresses at: the fastest, since the link, not the ratio, is what it saves.</summary>
    public const int Level = 1;

    /// <summary>
    /// A block is sent compressed only when that saves at least 1/<c>MinSavingDivisor</c> of it: one that shrinks less
    /// is not worth the receiver's decompression.
    /// </summary>
    public const int MinSavingDivisor = 16;

    /// <summary>The header that ends a chunked compressed body.</summary>
    public static ReadOnlySpan<byte> EndHeader => [0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>The header that abandons a chunked compressed body (no BodyEnd follows).</summary>
    public static ReadOnlySpan<byte> AbortHeader => [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

    /// <summary>The most bytes <see cref="Encode"/> may write for a block of <paramref name="originalLength"/> bytes.</summary>
    public static int MaxEncodedLength(int originalLength) => HeaderLength + originalLength;

    /// <summary>
    /// Encodes <paramref name="original"/> (1 to <see cref="MaxBlockLength"/> bytes) as one block into
    /// <paramref name="destination"/> (at least <see cref="MaxEncodedLength"/> bytes): compressed when
    /// <paramref name="compressor"/> is given and that saves enough, else stored. Returns the bytes written and
    /// whether the block went compressed.
    /// </summary>
    public static (int Written, bool Compressed) Encode(ReadOnlySpan<byte> original, Span<byte> destination, Compressor? compressor)
    {
        if (original.IsEmpty || original.Length > MaxBlockLength)
        {
            throw new ArgumentOutOfRangeException(nameof(original), original.Length, $"a block holds 1 to {MaxBlockLength} bytes");
        }

        if (destination.Length < MaxEncodedLength(original.Length))
        {
            throw new ArgumentException("the destination cannot hold the block", nameof(destination));
        }

        int worthIt = original.Length - original.Length / MinSavingDivisor;
        var payload = destination.Slice(HeaderLength, original.Length);
        // A frame that does not fit in the stored block's room would not be sent anyway: TryWrap fails cheaply.
        if (compressor is not null && compressor.TryWrap(original, payload, out int packed) && packed > 0 && packed < worthIt)
        {
            WriteHeader(destination, original.Length, packed);
            return (HeaderLength + packed, true);
        }

        original.CopyTo(payload);
        WriteHeader(destination, original.Length, original.Length);
        return (HeaderLength + original.Length, false);
    }

    /// <summary>
    /// Reads and checks a block header. <paramref name="limit"/> is how many original bytes the body may still carry.
    /// </summary>
    /// <exception cref="ProtocolViolationException">A length is 0 or over <see cref="MaxBlockLength"/>, the block would
    /// pass the limit, or the wire length exceeds the original length.</exception>
    public static BlockHeader ReadHeader(ReadOnlySpan<byte> header, long limit, bool chunked)
    {
        uint original = BinaryPrimitives.ReadUInt32BigEndian(header);
        uint wire = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        if (chunked && header[..HeaderLength].SequenceEqual(EndHeader))
        {
            return new BlockHeader(BlockKind.End, 0, 0);
        }

        if (chunked && header[..HeaderLength].SequenceEqual(AbortHeader))
        {
            return new BlockHeader(BlockKind.Abort, 0, 0);
        }

        if (original == 0 || original > MaxBlockLength)
        {
            throw new ProtocolViolationException($"compressed block of {original} original bytes: a block holds 1 to {MaxBlockLength}");
        }

        if (original > limit)
        {
            throw new ProtocolViolationException($"compressed block of {original} original bytes passes the body's end ({limit} bytes left)");
        }

        if (wire == 0 || wire > original)
        {
            throw new ProtocolViolationException($"compressed block of {wire} wire bytes for {original} original ones: at most the original length");
        }

        return new BlockHeader(wire == original ? BlockKind.Stored : BlockKind.Zstd, (int)original, (int)wire);
    }

    /// <summary>
    /// Decodes a compressed block's <paramref name="payload"/> into <paramref name="destination"/>, which is exactly
    /// the block's original length: more output than that is never written, and less is an error.
    /// </summary>
    /// <exception cref="ProtocolViolationException">The bytes are not a zstd frame of exactly that length.</exception>
    public static void Decompress(ReadOnlySpan<byte> payload, Span<byte> destination, Decompressor decompressor)
    {
        ArgumentNullException.ThrowIfNull(decompressor);
        int written;
        try
        {
            if (!decompressor.TryUnwrap(payload, destination, out written))
            {
                throw new ProtocolViolationException($"compressed block decodes to more than its {destination.Length} original bytes");
            }
        }
        catch (ZstdException ex)
        {
            throw new ProtocolViolationException($"compressed block is not valid zstd: {ex.Message}");
        }

        if (written != destination.Length)
        {
            throw new ProtocolViolationException($"compressed block decodes to {written} bytes, not its {destination.Length} original bytes");
        }
    }

    /// <summary>A decompressor whose window is bounded by a block: a frame asking for more memory is refused.</summary>
    public static Decompressor CreateDecompressor()
    {
        var decompressor = new Decompressor();
        // 2^20 = MaxBlockLength: a frame never needs to look back further than its own block.
        decompressor.SetParameter(ZstdSharp.Unsafe.ZSTD_dParameter.ZSTD_d_windowLogMax, 20);
        return decompressor;
    }

    /// <summary>A compressor at <see cref="Level"/>.</summary>
    public static Compressor CreateCompressor() => new(Level);

    private static void WriteHeader(Span<byte> destination, int original, int wire)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)original);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], (uint)wire);
    }
}

/// <summary>What a block header announces.</summary>
public enum BlockKind
{
    /// <summary>Original bytes as they are.</summary>
    Stored,

    /// <summary>One zstd frame.</summary>
    Zstd,

    /// <summary>The end of a chunked body.</summary>
    End,

    /// <summary>A chunked body abandoned by its sender.</summary>
    Abort,
}

/// <summary>A checked block header.</summary>
/// <param name="Kind">Stored, compressed, or a chunked body's end or abort.</param>
/// <param name="OriginalLength">The original bytes the block stands for.</param>
/// <param name="WireLength">The bytes that follow the header.</param>
public readonly record struct BlockHeader(BlockKind Kind, int OriginalLength, int WireLength);
