using System.Buffers;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Transfer;

/// <summary>The write side of a connection: frames, and bodies copied from a stream with their trailing hash.</summary>
public sealed class FrameWriter(Stream stream)
{
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

    /// <summary>Flushes the underlying stream.</summary>
    public Task FlushAsync(CancellationToken cancellationToken) => _stream.FlushAsync(cancellationToken);
}
