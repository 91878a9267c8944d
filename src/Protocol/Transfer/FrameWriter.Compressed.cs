using System.Buffers;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Transfer;

/// <summary>Bodies sent compressed (<see cref="BodyEncoding.ZstdBlocks"/>): blocks of original bytes, each stored or zstd.</summary>
public sealed partial class FrameWriter
{
    /// <summary>
    /// Sends exactly <paramref name="length"/> original bytes of <paramref name="source"/> as a compressed fixed-length
    /// body (blocks, no terminator), hashing the original bytes, then the BodyEnd frame with the hash. Progress counts
    /// original bytes. Returns the hash.
    /// </summary>
    /// <exception cref="EndOfStreamException">The source ended early; the connection is then in the middle of a body.</exception>
    public async Task<byte[]> WriteCompressedBodyAsync(Stream source, long length, ContentHasher hasher, uint requestId, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        await WriteCompressedBlocksAsync(source, length, hasher, progress, cancellationToken);
        var hash = hasher.GetHashAndReset();
        await WriteAsync(Messages.BodyEnd(requestId, hasher.Name, hash), cancellationToken);
        return hash;
    }

    /// <summary>
    /// Sends exactly <paramref name="length"/> bytes of <paramref name="source"/> as a compressed fixed-length body without
    /// hashing them, like <see cref="WriteUnhashedBodyAsync"/>: the caller sends the BodyEnd with the hash it holds.
    /// </summary>
    /// <exception cref="EndOfStreamException">The source ended early; the connection is then in the middle of a body.</exception>
    public Task WriteUnhashedCompressedBodyAsync(Stream source, long length, CancellationToken cancellationToken) =>
        WriteCompressedBlocksAsync(source, length, hasher: null, progress: null, cancellationToken);

    private async Task WriteCompressedBlocksAsync(Stream source, long length, ContentHasher? hasher, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        using var blocks = new BlockSender(this);
        long total = 0;
        while (total < length)
        {
            int read = await blocks.FillAsync(source, (int)Math.Min(BlockCodec.BlockLength, length - total), cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException($"stream ended after {total} of {length} bytes");
            }

            await blocks.SendAsync(read, hasher, cancellationToken);
            total += read;
            progress?.Invoke(read);
        }
    }

    /// <summary>
    /// Sends <paramref name="source"/> as a compressed chunked body: blocks ended by the end header, or abandoned by
    /// the abort header under the same rules as <see cref="WriteChunkedBodyAsync"/> (a source that ends before, or
    /// goes on past, <paramref name="exactLength"/>, or fails to be read). On success the BodyEnd frame follows.
    /// </summary>
    public async Task<ChunkedBodyWriteResult> WriteCompressedChunkedBodyAsync(Stream source, long? exactLength, ContentHasher hasher, uint requestId, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(hasher);
        using var blocks = new BlockSender(this);
        long total = 0;
        while (true)
        {
            int want = exactLength is { } limit ? (int)Math.Min(BlockCodec.BlockLength, limit - total) : BlockCodec.BlockLength;
            int read;
            try
            {
                read = want > 0 ? await blocks.FillAsync(source, want, cancellationToken) : 0;
                if (want == 0 && await source.ReadAsync(new byte[1], cancellationToken) > 0)
                {
                    await WriteGatheredAsync(BlockCodec.AbortHeader.ToArray(), cancellationToken);
                    return new ChunkedBodyWriteResult(total, null, $"the source grew past {exactLength} bytes while it was read");
                }
            }
            catch (Exception ex) when (ex is IOException and not ConnectionLostException || ex is UnauthorizedAccessException)
            {
                await WriteGatheredAsync(BlockCodec.AbortHeader.ToArray(), cancellationToken);
                return new ChunkedBodyWriteResult(total, null, $"reading the source failed after {total} bytes: {ex.Message}");
            }

            if (read == 0)
            {
                if (exactLength is { } expected && total != expected)
                {
                    await WriteGatheredAsync(BlockCodec.AbortHeader.ToArray(), cancellationToken);
                    return new ChunkedBodyWriteResult(total, null, $"the source ended after {total} of {expected} bytes");
                }

                await WriteGatheredAsync(BlockCodec.EndHeader.ToArray(), cancellationToken);
                var hash = hasher.GetHashAndReset();
                await WriteAsync(Messages.BodyEnd(requestId, hasher.Name, hash), cancellationToken);
                return new ChunkedBodyWriteResult(total, hash, null);
            }

            await blocks.SendAsync(read, hasher, cancellationToken);
            total += read;
            progress?.Invoke(read);
        }
    }

    /// <summary>
    /// One body's blocks: a pooled buffer of original bytes and one of encoded bytes, and the decision whether a block
    /// is worth compressing. After a block that did not shrink enough, the next ones are sent stored without trying,
    /// 1, 2, 4 … up to <see cref="MaxSkip"/> of them, before one is tried again: data that does not compress costs one
    /// zstd attempt per <see cref="MaxSkip"/> blocks, and a change in the data is still noticed.
    /// </summary>
    private sealed class BlockSender(FrameWriter writer) : IDisposable
    {
        /// <summary>The most blocks sent stored without trying to compress one.</summary>
        public const int MaxSkip = 32;

        private readonly byte[] _original = ArrayPool<byte>.Shared.Rent(BlockCodec.BlockLength);
        private readonly byte[] _encoded = ArrayPool<byte>.Shared.Rent(BlockCodec.MaxEncodedLength(BlockCodec.BlockLength));
        private readonly ZstdSharp.Compressor _compressor = BlockCodec.CreateCompressor();
        private int _skip;
        private int _toSkip;

        /// <summary>Reads up to <paramref name="want"/> original bytes, as many as the source gives before it ends.</summary>
        public async Task<int> FillAsync(Stream source, int want, CancellationToken cancellationToken)
        {
            int read = 0;
            while (read < want)
            {
                int n = await source.ReadAsync(_original.AsMemory(read, want - read), cancellationToken);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }

            return read;
        }

        /// <summary>Hashes the <paramref name="count"/> original bytes read, encodes them as one block and sends it.</summary>
        public async Task SendAsync(int count, ContentHasher? hasher, CancellationToken cancellationToken)
        {
            hasher?.Append(_original.AsSpan(0, count));
            bool tried = _toSkip == 0;
            var (written, compressed) = BlockCodec.Encode(_original.AsSpan(0, count), _encoded, tried ? _compressor : null);
            if (tried)
            {
                _skip = compressed ? 0 : Math.Clamp(_skip * 2, 1, MaxSkip);
                _toSkip = _skip;
            }
            else
            {
                _toSkip--;
            }

            await writer.WriteGatheredAsync(_encoded.AsMemory(0, written), cancellationToken);
        }

        public void Dispose()
        {
            _compressor.Dispose();
            ArrayPool<byte>.Shared.Return(_original);
            ArrayPool<byte>.Shared.Return(_encoded);
        }
    }
}
