namespace FileXfer.Protocol.Net;

/// <summary>
/// A stream whose reads and writes together keep to a <see cref="TokenBucket"/>'s rate (<c>--bwlimit</c>): a write
/// goes out in pieces of at most one burst, each after the wait the bucket asks for; a read asks for at most one
/// burst and waits after it, so a sender on the other side is slowed by TCP's own flow control. Waits run on the
/// bucket's clock (<see cref="TokenBucket.Time"/>). Buckets may be shared: the connections of one command keep to
/// one rate together.
/// </summary>
public sealed class ThrottledStream(Stream inner, TokenBucket bucket) : Stream
{
    private readonly Stream _inner = inner ?? throw new ArgumentNullException(nameof(inner));
    private readonly TokenBucket _bucket = bucket ?? throw new ArgumentNullException(nameof(bucket));

    public override bool CanRead => _inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => _inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (buffer.Length > 0)
        {
            int piece = (int)Math.Min(buffer.Length, _bucket.Burst);
            await WaitAsync(_bucket.Take(piece), cancellationToken);
            await _inner.WriteAsync(buffer[..piece], cancellationToken);
            buffer = buffer[piece..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await _inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _bucket.Burst)], cancellationToken);
        await WaitAsync(_bucket.Take(read), cancellationToken);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    // The protocol's streams are async end to end; the synchronous members exist because Stream declares them.
    public override void Flush() => _inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("ThrottledStream is asynchronous only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("ThrottledStream is asynchronous only");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private Task WaitAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, _bucket.Time, cancellationToken) : Task.CompletedTask;
}
