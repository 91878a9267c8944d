namespace FileXfer.Server.Storage;

/// <summary>
/// A write-only stream that remembers the first write failure of its inner stream and drops every later
/// write, so that a body can still be read to its end after the disk filled up.
/// </summary>
internal sealed class LatchingWriteStream(Stream inner) : Stream
{
    public Exception? Failure { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Failure is not null)
        {
            return;
        }

        try
        {
            await inner.WriteAsync(buffer, cancellationToken);
        }
        catch (IOException ex)
        {
            Failure = ex;
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("uploads are written asynchronously");

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
