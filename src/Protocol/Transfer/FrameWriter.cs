using System.Buffers;
using System.Buffers.Binary;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Transfer;

/// <summary>
/// The write side of a connection: frames, and bodies copied from a stream with their trailing hash.
/// Small writes are gathered in a buffer and go out together, so a pipelined batch of small files costs a few
/// system calls instead of several per file; large body chunks go straight to the socket. Whoever is about to
/// wait for the peer must call <see cref="FlushAsync"/> first; <see cref="ProtocolReader.BeforeBlockingRead"/>
/// does it for readers. Safe for one writing task and one flushing task at once.
/// </summary>
public sealed partial class FrameWriter : IDisposable
{
    /// <summary>The data bytes in each chunk of a chunked body this writer sends.</summary>
    public const int ChunkSize = 1024 * 1024;

    /// <summary>The most bytes gathered before they are sent.</summary>
    public const int CoalesceLimit = 64 * 1024;

    private readonly Stream _stream;
    private readonly SemaphoreSlim _lock = new(1, 1);
    // Rented at the first write: a connection that never gets an answer holds no buffer.
    private byte[]? _buffer;
    private volatile int _count;

    public FrameWriter(Stream stream)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
    }

    /// <summary>
    /// Sends every frame and body piece as soon as it is written, like <see cref="StreamWriter.AutoFlush"/>: for
    /// peers that must control exactly when bytes go out (test doubles), at the cost of a system call per write.
    /// </summary>
    public bool AutoFlush { get; init; }

    private byte[] Buffer => _buffer ??= ArrayPool<byte>.Shared.Rent(CoalesceLimit);

    /// <summary>True when bytes are waiting in the buffer (for tests of the buffering).</summary>
    internal bool HasPendingBytes => _count > 0;

    /// <summary>Writes the 4-byte magic that opens a connection.</summary>
    public async ValueTask WriteMagicAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            await AppendAsync(ProtocolLimits.Magic.ToArray(), cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Encodes one frame into the buffer (sent when the buffer fills or is flushed).</summary>
    public async ValueTask WriteAsync(Frame frame, CancellationToken cancellationToken)
    {
        int length = FrameCodec.GetEncodedLength(frame);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (CoalesceLimit - _count < length)
            {
                await FlushBufferAsync(cancellationToken);
            }

            _count += FrameCodec.Write(frame, Buffer.AsSpan(_count));
            if (AutoFlush)
            {
                await FlushBufferAsync(cancellationToken);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Encodes the frame <see cref="Messages.Describe(MessageType, uint, RemoteEntry, FieldTag)"/> would build straight into
    /// the buffer (<see cref="Messages.WriteDescribe"/>): the same bytes, without a frame or its fields to allocate.
    /// </summary>
    public ValueTask WriteDescribeAsync(MessageType type, uint requestId, RemoteEntry entry, FieldTag nameTag, CancellationToken cancellationToken) =>
        WriteEncodedAsync(Messages.MaxDescribeLength(entry), (type, requestId, entry, nameTag),
            static (destination, state) => Messages.WriteDescribe(destination, state.type, state.requestId, state.entry, state.nameTag), cancellationToken);

    /// <summary>
    /// Encodes one frame into the buffer with <paramref name="encode"/>, which writes at most <paramref name="maxLength"/>
    /// bytes and returns how many it wrote.
    /// </summary>
    public async ValueTask WriteEncodedAsync<TState>(int maxLength, TState state, FrameEncoder<TState> encode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(encode);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (CoalesceLimit - _count < maxLength)
            {
                await FlushBufferAsync(cancellationToken);
            }

            if (maxLength > CoalesceLimit)
            {
                // Larger than the buffer can hold (a long name's worst case): encoded apart, then sent as it is.
                var frame = ArrayPool<byte>.Shared.Rent(maxLength);
                try
                {
                    int length = encode(frame, state);
                    await _stream.WriteAsync(frame.AsMemory(0, length), cancellationToken);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(frame);
                }

                return;
            }

            _count += encode(Buffer.AsSpan(_count), state);
            if (AutoFlush)
            {
                await FlushBufferAsync(cancellationToken);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Sends everything gathered so far.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_count == 0)
        {
            return;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            await FlushBufferAsync(cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Sends exactly <paramref name="length"/> bytes of <paramref name="source"/> as a body without hashing them: for a
    /// body whose hash the caller already holds (a stored file's verified hash) and sends in the BodyEnd itself.
    /// </summary>
    /// <exception cref="EndOfStreamException">The source ended early; the connection is then in the middle of a body.</exception>
    public Task WriteUnhashedBodyAsync(Stream source, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        return CopyStraightThroughAsync(source, length, hasher: null, progress: null, cancellationToken);
    }

    // Sends what is gathered, then copies the body straight through a big buffer, holding the connection.
    private async Task CopyStraightThroughAsync(Stream source, long length, ContentHasher? hasher, Action<long>? progress, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            await BodyCopier.CopyExactlyAsync(source, _stream, length, hasher, progress, cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Sends exactly <paramref name="length"/> bytes of <paramref name="source"/> as a body, hashing them, then
    /// the <see cref="MessageType.BodyEnd"/> frame with the hash. Returns the hash.
    /// </summary>
    /// <exception cref="EndOfStreamException">The source ended early (it shrank while it was read).</exception>
    public async Task<byte[]> WriteBodyAsync(Stream source, long length, ContentHasher hasher, uint requestId, Action<long>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(hasher);
        long remaining = length;
        while (remaining > 0)
        {
            if (remaining > CoalesceLimit - _count)
            {
                // Large: send what is gathered, then copy the rest straight through a big buffer.
                await CopyStraightThroughAsync(source, remaining, hasher, progress, cancellationToken);
                break;
            }

            int read = await AppendFromAsync(source, (int)remaining, hasher, cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException($"stream ended after {length - remaining} of {length} bytes");
            }

            remaining -= read;
            progress?.Invoke(read);
        }

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
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize + 4);
        try
        {
            long total = 0;
            while (true)
            {
                int want = exactLength is { } limit ? (int)Math.Min(ChunkSize, limit - total) : ChunkSize;
                int read = 0;
                try
                {
                    if (want > 0)
                    {
                        // Fill the chunk as far as the source allows, so a slow pipe still makes large chunks.
                        while (read < want)
                        {
                            int n = await source.ReadAsync(chunk.AsMemory(4 + read, want - read), cancellationToken);
                            if (n == 0)
                            {
                                break;
                            }

                            read += n;
                        }
                    }
                    else if (await source.ReadAsync(chunk.AsMemory(4, 1), cancellationToken) > 0)
                    {
                        await WriteChunkHeaderAsync(ProtocolLimits.AbortChunkMarker, cancellationToken);
                        return new ChunkedBodyWriteResult(total, null, $"the source grew past {exactLength} bytes while it was read");
                    }
                }
                catch (Exception ex) when (ex is IOException and not ConnectionLostException || ex is UnauthorizedAccessException)
                {
                    // The source failed, not the connection: abandon this body and keep the connection in step.
                    await WriteChunkHeaderAsync(ProtocolLimits.AbortChunkMarker, cancellationToken);
                    return new ChunkedBodyWriteResult(total, null, $"reading the source failed after {total} bytes: {ex.Message}");
                }

                if (read == 0)
                {
                    if (exactLength is { } expected && total != expected)
                    {
                        await WriteChunkHeaderAsync(ProtocolLimits.AbortChunkMarker, cancellationToken);
                        return new ChunkedBodyWriteResult(total, null, $"the source ended after {total} of {expected} bytes");
                    }

                    await WriteChunkHeaderAsync(0, cancellationToken);
                    var hash = hasher.GetHashAndReset();
                    await WriteAsync(Messages.BodyEnd(requestId, hasher.Name, hash), cancellationToken);
                    return new ChunkedBodyWriteResult(total, hash, null);
                }

                hasher.Append(chunk.AsSpan(4, read));
                BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)read);
                await WriteGatheredAsync(chunk.AsMemory(0, 4 + read), cancellationToken);
                total += read;
                progress?.Invoke(read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer is { Length: > 0 })
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _lock.Dispose();
    }

    private async Task WriteChunkHeaderAsync(uint value, CancellationToken cancellationToken)
    {
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, value);
        await WriteGatheredAsync(header, cancellationToken);
    }

    /// <summary>Appends bytes to the buffer when they fit, else sends the buffer and then the bytes directly.</summary>
    private async Task WriteGatheredAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            await AppendAsync(bytes, cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task AppendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (bytes.Length > CoalesceLimit - _count)
        {
            await FlushBufferAsync(cancellationToken);
            if (bytes.Length >= CoalesceLimit)
            {
                await _stream.WriteAsync(bytes, cancellationToken);
                return;
            }
        }

        bytes.Span.CopyTo(Buffer.AsSpan(_count));
        _count += bytes.Length;
        if (AutoFlush)
        {
            await FlushBufferAsync(cancellationToken);
        }
    }

    /// <summary>Reads up to <paramref name="max"/> body bytes from the source straight into the buffer.</summary>
    private async Task<int> AppendFromAsync(Stream source, int max, ContentHasher hasher, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            int read = await source.ReadAsync(Buffer.AsMemory(_count, Math.Min(max, CoalesceLimit - _count)), cancellationToken);
            hasher.Append(Buffer.AsSpan(_count, read));
            _count += read;
            if (_count == CoalesceLimit || AutoFlush)
            {
                await FlushBufferAsync(cancellationToken);
            }

            return read;
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task FlushBufferAsync(CancellationToken cancellationToken)
    {
        if (_count > 0)
        {
            await _stream.WriteAsync(Buffer.AsMemory(0, _count), cancellationToken);
            _count = 0;
        }
    }
}

/// <summary>Encodes one frame into <paramref name="destination"/> from <paramref name="state"/>; returns the bytes written.</summary>
public delegate int FrameEncoder<in TState>(Span<byte> destination, TState state);
