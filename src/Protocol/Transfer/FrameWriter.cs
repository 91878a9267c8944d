using System.Buffers;
using System.Buffers.Binary;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Transfer;

/// <summary>The write side of a connection: frames, and bodies copied from a stream with their trailing hash.</summary>
public sealed class FrameWriter(Stream stream)
{
    /// <summary>The data bytes in each chunk of a chunked body this writer sends.</summary>
    public const int ChunkSize = 1024 * 1024;

    private readonly Stream _stream = stream ?? throw new ArgumentNullException(nameof(stream));

    /// <summary>Writes the 4-byte magic that opens a connection.</summary>
    public ValueTask WriteMagicAsync(CancellationToken cancellationToken) =>
        _stream.WriteAsync(ProtocolLimits.Magic.ToArray(), cancellationToken);

    /// <summary>Encodes one frame and writes it in a single write.</summary>
    public async ValueTask WriteAsync(Frame frame, CancellationToken cancellationToken)
    {
        int length = FrameCodec.GetEncodedLength(frame);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            int written = FrameCodec.Write(frame, buffer);
            await _stream.WriteAsync(buffer.AsMemory(0, written), cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Sends exactly <paramref name="length"/> bytes of <paramref name="source"/> as a body, hashing them, then
    /// the <see cref="MessageType.BodyEnd"/> frame with the hash. Returns the hash.
    /// </summary>
    /// <exception cref="EndOfStreamException">The source ended early (it shrank while it was read).</exception>
    public async Task<byte[]> WriteBodyAsync(Stream source, long length, ContentHasher hasher, uint requestId, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        await BodyCopier.CopyExactlyAsync(source, _stream, length, hasher, progress, cancellationToken);
        var hash = hasher.GetHashAndReset();
        await WriteAsync(Messages.BodyEnd(requestId, hasher.Name, hash), cancellationToken);
        return hash;
    }

    /// <summary>
    /// Sends <paramref name="source"/> as a chunked body. With <paramref name="exactLength"/>, exactly that many
    /// bytes must come from the source: if it ends early or has more, the body is aborted with the abort marker
    /// (the source changed while it was read) and no BodyEnd follows. Without it, the source is read to its end.
    /// On success the BodyEnd frame with the hash follows the body.
    /// </summary>
    public async Task<ChunkedBodyWriteResult> WriteChunkedBodyAsync(Stream source, long? exactLength, ContentHasher hasher, uint requestId, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(hasher);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize + 4);
        try
        {
            long total = 0;
            while (true)
            {
                int want = exactLength is { } limit ? (int)Math.Min(ChunkSize, limit - total) : ChunkSize;
                int read = 0;
                if (want > 0)
                {
                    // Fill the chunk as far as the source allows, so a slow pipe still makes large chunks.
                    while (read < want)
                    {
                        int n = await source.ReadAsync(buffer.AsMemory(4 + read, want - read), cancellationToken);
                        if (n == 0)
                        {
                            break;
                        }

                        read += n;
                    }
                }
                else if (await source.ReadAsync(buffer.AsMemory(4, 1), cancellationToken) > 0)
                {
                    await AbortAsync(buffer, cancellationToken);
                    return new ChunkedBodyWriteResult(total, null, $"the source grew past {exactLength} bytes while it was read");
                }

                if (read == 0)
                {
                    if (exactLength is { } expected && total != expected)
                    {
                        await AbortAsync(buffer, cancellationToken);
                        return new ChunkedBodyWriteResult(total, null, $"the source ended after {total} of {expected} bytes");
                    }

                    BinaryPrimitives.WriteUInt32BigEndian(buffer, 0);
                    await _stream.WriteAsync(buffer.AsMemory(0, 4), cancellationToken);
                    var hash = hasher.GetHashAndReset();
                    await WriteAsync(Messages.BodyEnd(requestId, hasher.Name, hash), cancellationToken);
                    return new ChunkedBodyWriteResult(total, hash, null);
                }

                hasher.Append(buffer.AsSpan(4, read));
                BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)read);
                await _stream.WriteAsync(buffer.AsMemory(0, 4 + read), cancellationToken);
                total += read;
                progress?.Invoke(read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task AbortAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        BinaryPrimitives.WriteUInt32BigEndian(buffer, ProtocolLimits.AbortChunkMarker);
        await _stream.WriteAsync(buffer.AsMemory(0, 4), cancellationToken);
    }

    /// <summary>Flushes the underlying stream.</summary>
    public Task FlushAsync(CancellationToken cancellationToken) => _stream.FlushAsync(cancellationToken);
}
