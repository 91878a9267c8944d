using System.Buffers;
using System.Buffers.Binary;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Transfer;

/// <summary>
/// The read side of a connection: frames and the bodies that follow them, from one buffered stream.
/// Bytes read ahead while looking for a frame are handed to the next body before the stream is read again.
/// </summary>
public sealed partial class ProtocolReader : IDisposable
{
    private const int BufferSize = ProtocolLimits.MaxFrameLength + ProtocolLimits.LengthPrefixBytes;

    private readonly Stream _stream;
    private byte[] _buffer;
    private int _start;
    private int _end;

    /// <summary>A reader of <paramref name="stream"/>.</summary>
    /// <param name="stream">The connection.</param>
    /// <param name="initialBufferSize">
    /// The read-ahead buffer to start with; it grows to hold the largest frame when one arrives. A server starts
    /// small, so connections that never get past the handshake hold little memory.
    /// </param>
    public ProtocolReader(Stream stream, int initialBufferSize = BufferSize)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        ArgumentOutOfRangeException.ThrowIfLessThan(initialBufferSize, ProtocolLimits.LengthPrefixBytes + ProtocolLimits.FrameFixedBytes);
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(initialBufferSize, BufferSize));
    }

    /// <summary>
    /// Called before the reader waits on the stream, so that requests gathered by a <see cref="FrameWriter"/>
    /// are sent before their answers are awaited (typically the writer's <see cref="FrameWriter.FlushAsync"/>).
    /// </summary>
    public Func<CancellationToken, Task>? BeforeBlockingRead { get; set; }

    /// <summary>
    /// Grows the read-ahead buffer to its full size now, as a server does once a peer is past its handshake: pipelined
    /// requests and their small bodies then arrive many to a read.
    /// </summary>
    public void UseFullBuffer()
    {
        if (_buffer.Length < BufferSize)
        {
            GrowToFullSize();
        }
    }

    // Moves what is buffered to the front of a buffer as large as a frame can be.
    private void GrowToFullSize()
    {
        var larger = ArrayPool<byte>.Shared.Rent(BufferSize);
        _buffer.AsSpan(_start, _end - _start).CopyTo(larger);
        _end -= _start;
        _start = 0;
        ArrayPool<byte>.Shared.Return(Interlocked.Exchange(ref _buffer, larger));
    }

    /// <summary>True when bytes already read from the stream wait in the buffer (the next request has begun to arrive).</summary>
    public bool HasBufferedData => _end > _start;

    /// <summary>Reads the 4-byte magic that opens a connection.</summary>
    /// <exception cref="ProtocolViolationException">The bytes are not the FileXfer magic.</exception>
    public async ValueTask ReadMagicAsync(CancellationToken cancellationToken)
    {
        await FillAsync(ProtocolLimits.Magic.Length, cancellationToken);
        if (!_buffer.AsSpan(_start, ProtocolLimits.Magic.Length).SequenceEqual(ProtocolLimits.Magic))
        {
            throw new ProtocolViolationException("the peer does not speak the FileXfer protocol (bad magic)");
        }

        _start += ProtocolLimits.Magic.Length;
    }

    /// <summary>Reads the next frame, or returns null when the peer closed the connection between frames.</summary>
    /// <exception cref="ProtocolViolationException">The bytes are not a valid frame.</exception>
    /// <exception cref="ConnectionLostException">The connection ended inside a frame.</exception>
    public async ValueTask<Frame?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = FrameCodec.TryRead(_buffer.AsSpan(_start, _end - _start), out var frame, out int consumed, out var error);
            switch (status)
            {
                case OperationStatus.Done:
                    _start += consumed;
                    return frame;
                case OperationStatus.InvalidData:
                    throw new ProtocolViolationException(error ?? "invalid frame");
            }

            if (!await TryReadMoreAsync(cancellationToken))
            {
                if (_start == _end)
                {
                    return null;
                }

                throw new ConnectionLostException($"connection closed inside a frame ({_end - _start} bytes of it received)");
            }
        }
    }

    /// <summary>
    /// Reads the next frame, the connection closing first being an error; an <see cref="MessageType.Entry"/> frame is read
    /// straight into its entry (<see cref="Messages.ReadEntry(ReadOnlySpan{byte}, MessageType, out bool)"/>), with no
    /// frame built: a listing is mostly entries.
    /// </summary>
    /// <exception cref="ProtocolViolationException">The bytes are not a valid frame, or the entry lacks a field.</exception>
    /// <exception cref="ConnectionLostException">The connection ended.</exception>
    public async ValueTask<FrameOrEntry> ReadFrameOrEntryAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var buffered = _buffer.AsSpan(_start, _end - _start);
            var status = FrameCodec.TryReadHeader(buffered, out var type, out uint requestId, out int consumed, out var error);
            if (status == OperationStatus.Done)
            {
                if (type != MessageType.Entry)
                {
                    return new FrameOrEntry(await ReadRequiredFrameAsync(cancellationToken), null, false);
                }

                var entry = Messages.ReadEntry(buffered[FrameCodec.FieldsStart..consumed], type, out bool namedByName);
                _start += consumed;
                return new FrameOrEntry(null, entry, namedByName) { RequestId = requestId };
            }

            if (status == OperationStatus.InvalidData)
            {
                throw new ProtocolViolationException(error ?? "invalid frame");
            }

            if (!await TryReadMoreAsync(cancellationToken))
            {
                throw _start == _end
                    ? new ConnectionLostException("connection closed by the other side")
                    : new ConnectionLostException($"connection closed inside a frame ({_end - _start} bytes of it received)");
            }
        }
    }

    /// <summary>Reads the next frame; the connection closing first is an error.</summary>
    public async ValueTask<Frame> ReadRequiredFrameAsync(CancellationToken cancellationToken) =>
        await ReadFrameAsync(cancellationToken) ?? throw new ConnectionLostException("connection closed by the other side");

    /// <summary>
    /// Copies exactly <paramref name="length"/> body bytes to <paramref name="destination"/>, hashing them.
    /// </summary>
    /// <exception cref="ConnectionLostException">The connection ended before the whole body arrived.</exception>
    public async Task CopyBodyToAsync(Stream destination, long length, ContentHasher? hasher, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        long remaining = length;

        // What is buffered goes first. What fits in the read-ahead buffer is read into it, with whatever follows it
        // (the next frames of a pipeline): one read for many small bodies rather than an exact read for each.
        while (remaining > 0)
        {
            int chunk = (int)Math.Min(_end - _start, remaining);
            if (chunk == 0)
            {
                if (remaining > _buffer.Length / 2)
                {
                    break;
                }

                if (!await TryReadMoreAsync(cancellationToken))
                {
                    throw new ConnectionLostException(
                        $"connection closed in the middle of a body of {length} bytes",
                        new EndOfStreamException($"stream ended after {length - remaining} of {length} bytes"));
                }

                continue;
            }

            hasher?.Append(_buffer.AsSpan(_start, chunk));
            await destination.WriteAsync(_buffer.AsMemory(_start, chunk), cancellationToken);
            _start += chunk;
            remaining -= chunk;
            progress?.Invoke(chunk);
        }

        try
        {
            if (remaining > 0 && BeforeBlockingRead is { } flush)
            {
                await flush(cancellationToken);
            }

            await BodyCopier.CopyExactlyAsync(_stream, destination, remaining, hasher, progress, cancellationToken);
        }
        catch (EndOfStreamException ex)
        {
            throw new ConnectionLostException($"connection closed in the middle of a body of {length} bytes", ex);
        }
    }

    /// <summary>
    /// Copies a chunked body (<c>u32 length | bytes</c> chunks up to a zero length or the abort marker) to
    /// <paramref name="destination"/>, hashing the data bytes. More than <paramref name="maxLength"/> bytes in
    /// all is a protocol violation.
    /// </summary>
    public async Task<ChunkedBodyResult> CopyChunkedBodyToAsync(Stream destination, long maxLength, ContentHasher? hasher, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        long total = 0;
        while (true)
        {
            await FillAsync(4, cancellationToken, "inside a chunked body");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start, 4));
            _start += 4;
            if (length == 0)
            {
                return new ChunkedBodyResult(total, Aborted: false);
            }

            if (length == ProtocolLimits.AbortChunkMarker)
            {
                return new ChunkedBodyResult(total, Aborted: true);
            }

            if (length > ProtocolLimits.MaxChunkLength)
            {
                throw new ProtocolViolationException($"chunk length {length} exceeds the limit of {ProtocolLimits.MaxChunkLength}");
            }

            if (length > maxLength - total)
            {
                throw new FileXferException(ErrorCode.TooLarge, $"the body exceeds the limit of {maxLength} bytes");
            }

            await CopyBodyToAsync(destination, length, hasher, progress, cancellationToken);
            total += length;
        }
    }

    /// <summary>Reads and drops a chunked body.</summary>
    public Task<ChunkedBodyResult> DiscardChunkedBodyAsync(CancellationToken cancellationToken) =>
        CopyChunkedBodyToAsync(Stream.Null, ProtocolLimits.MaxBodySize, hasher: null, progress: null, cancellationToken);

    /// <summary>Reads and drops a body, to stay in step after refusing it.</summary>
    public Task DiscardBodyAsync(long length, CancellationToken cancellationToken) =>
        CopyBodyToAsync(Stream.Null, length, hasher: null, progress: null, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask FillAsync(int count, CancellationToken cancellationToken, string where = "during the handshake")
    {
        while (_end - _start < count)
        {
            if (!await TryReadMoreAsync(cancellationToken))
            {
                throw new ConnectionLostException($"connection closed {where}");
            }
        }
    }

    private async ValueTask<bool> TryReadMoreAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            // Move the partial frame to the front so a whole frame always fits.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            // Full of one unfinished frame: grow to the largest a frame can be (the codec has checked the length).
            GrowToFullSize();
        }

        if (BeforeBlockingRead is { } flush)
        {
            await flush(cancellationToken);
        }

        int read = await _stream.ReadAsync(_buffer.AsMemory(_end, _buffer.Length - _end), cancellationToken);
        _end += read;
        return read > 0;
    }
}
