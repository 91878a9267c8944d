namespace FileXfer.Server.Storage.Local;

/// <summary>
/// The body of a resumable upload on its way to its partial: every <see cref="Interval"/> bytes written, the partial is
/// flushed and its durable prefix raised (<see cref="DurablePrefix"/>), so a power loss during a long upload costs a
/// resend of at most that much. The partial already starts its writeback every few MiB, so the flush mostly waits
/// for the last stretch.
/// </summary>
internal sealed class CheckpointStream(InlineFileStream partial) : Stream
{
    /// <summary>Bytes between two checkpoints.</summary>
    public const long Interval = 64L * 1024 * 1024;

    private long _sinceCheckpoint;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        partial.Write(buffer);
        _sinceCheckpoint += buffer.Length;
        if (_sinceCheckpoint >= Interval)
        {
            DurablePrefix.Advance(partial, partial.Position);
            _sinceCheckpoint = 0;
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => partial.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
