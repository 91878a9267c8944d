using System.Buffers;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Transfer;

/// <summary>
/// Compressed bodies (<see cref="BodyEncoding.ZstdBlocks"/>): each block is read whole into a pooled buffer, checked,
/// decoded into another one of exactly its original length, hashed and written. Memory stays at two blocks of at most
/// <see cref="BlockCodec.MaxBlockLength"/> bytes, whatever the body or the block claims.
/// </summary>
public sealed partial class ProtocolReader
{
    /// <summary>
    /// Copies a compressed fixed-length body of exactly <paramref name="length"/> original bytes to
    /// <paramref name="destination"/>, hashing the original bytes; progress counts original bytes.
    /// </summary>
    /// <exception cref="ProtocolViolationException">A block is malformed: its lengths lie or pass the body's end, or
    /// its zstd frame is corrupt or decodes to another length.</exception>
    /// <exception cref="ConnectionLostException">The connection ended before the whole body arrived.</exception>
    public async Task CopyCompressedBodyToAsync(Stream destination, long length, ContentHasher? hasher, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        using var blocks = new BlockReceiver();
        long total = 0;
        while (total < length)
        {
            var header = await ReadBlockHeaderAsync(length - total, chunked: false, cancellationToken);
            total += await ReceiveBlockAsync(blocks, header, destination, hasher, progress, cancellationToken);
        }
    }

    /// <summary>
    /// Copies a compressed chunked body (blocks up to the end header or the abort header) to <paramref name="destination"/>,
    /// hashing the original bytes. More than <paramref name="maxLength"/> original bytes in all is a protocol violation.
    /// </summary>
    public async Task<ChunkedBodyResult> CopyCompressedChunkedBodyToAsync(Stream destination, long maxLength, ContentHasher? hasher, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using var blocks = new BlockReceiver();
        long total = 0;
        while (true)
        {
            var header = await ReadBlockHeaderAsync(maxLength - total, chunked: true, cancellationToken);
            switch (header.Kind)
            {
                case BlockKind.End:
                    return new ChunkedBodyResult(total, Aborted: false);
                case BlockKind.Abort:
                    return new ChunkedBodyResult(total, Aborted: true);
            }

            total += await ReceiveBlockAsync(blocks, header, destination, hasher, progress, cancellationToken);
        }
    }

    /// <summary>Reads and drops a compressed fixed-length body (decoding it still: a malformed one breaks the connection).</summary>
    public Task DiscardCompressedBodyAsync(long length, CancellationToken cancellationToken) =>
        CopyCompressedBodyToAsync(Stream.Null, length, hasher: null, progress: null, cancellationToken);

    /// <summary>Reads and drops a compressed chunked body.</summary>
    public Task<ChunkedBodyResult> DiscardCompressedChunkedBodyAsync(CancellationToken cancellationToken) =>
        CopyCompressedChunkedBodyToAsync(Stream.Null, ProtocolLimits.MaxBodySize, hasher: null, progress: null, cancellationToken);

    private async ValueTask<BlockHeader> ReadBlockHeaderAsync(long limit, bool chunked, CancellationToken cancellationToken)
    {
        await FillAsync(BlockCodec.HeaderLength, cancellationToken, "inside a compressed body");
        var header = BlockCodec.ReadHeader(_buffer.AsSpan(_start, BlockCodec.HeaderLength), limit, chunked);
        _start += BlockCodec.HeaderLength;
        return header;
    }

    private async Task<int> ReceiveBlockAsync(BlockReceiver blocks, BlockHeader header, Stream destination, ContentHasher? hasher, Action<long>? progress, CancellationToken cancellationToken)
    {
        // The wire bytes, whole: first what is buffered, then exactly the rest from the stream.
        var wire = blocks.Wire.AsMemory(0, header.WireLength);
        int have = Math.Min(_end - _start, header.WireLength);
        _buffer.AsSpan(_start, have).CopyTo(wire.Span);
        _start += have;
        if (have < header.WireLength)
        {
            if (BeforeBlockingRead is { } flush)
            {
                await flush(cancellationToken);
            }

            try
            {
                await _stream.ReadExactlyAsync(wire[have..], cancellationToken);
            }
            catch (EndOfStreamException ex)
            {
                throw new ConnectionLostException("connection closed in the middle of a compressed block", ex);
            }
        }

        var original = wire;
        if (header.Kind == BlockKind.Zstd)
        {
            original = blocks.Original.AsMemory(0, header.OriginalLength);
            BlockCodec.Decompress(wire.Span, original.Span, blocks.Decompressor);
        }

        hasher?.Append(original.Span);
        await destination.WriteAsync(original, cancellationToken);
        progress?.Invoke(header.OriginalLength);
        return header.OriginalLength;
    }

    /// <summary>A body's two pooled block buffers and its decompressor.</summary>
    private sealed class BlockReceiver : IDisposable
    {
        private ZstdSharp.Decompressor? _decompressor;
        private byte[]? _original;

        public byte[] Wire { get; } = ArrayPool<byte>.Shared.Rent(BlockCodec.MaxBlockLength);

        // Rented at the first compressed block: a body of stored blocks needs only the one buffer.
        public byte[] Original => _original ??= ArrayPool<byte>.Shared.Rent(BlockCodec.MaxBlockLength);

        public ZstdSharp.Decompressor Decompressor => _decompressor ??= BlockCodec.CreateDecompressor();

        public void Dispose()
        {
            _decompressor?.Dispose();
            ArrayPool<byte>.Shared.Return(Wire);
            if (_original is { } original)
            {
                ArrayPool<byte>.Shared.Return(original);
            }
        }
    }
}
