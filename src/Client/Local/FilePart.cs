using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client.Local;

/// <summary>
/// One range of an open local file as a stream of its own, read and written with positional calls (pread, pwrite) so
/// that several ranges of one file move at once over several connections, each from its own place, without a copy.
/// Position 0 is the range's first byte; the stream never reads or writes past the range. The handle stays open.
/// </summary>
internal sealed class FilePart(SafeFileHandle handle, FileRange range) : Stream
{
    private long _position;

    public FileRange Range => range;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => true;

    public override long Length => range.Length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, range.Length);
            _position = value;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int count = (int)Math.Min(buffer.Length, range.Length - _position);
        if (count <= 0)
        {
            return 0;
        }

        int read = await RandomAccess.ReadAsync(handle, buffer[..count], range.Offset + _position, cancellationToken);
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length > range.Length - _position)
        {
            throw new IOException($"a write past the end of range {range}");
        }

        await RandomAccess.WriteAsync(handle, buffer, range.Offset + _position, cancellationToken);
        _position += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("asynchronous reads only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("asynchronous writes only");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
