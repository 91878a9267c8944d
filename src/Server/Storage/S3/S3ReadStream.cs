using Amazon.S3;
using Amazon.S3.Model;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// An object as a seekable read-only stream: one ranged GET from the position to the end, opened again after a
/// seek, each on the condition that the object is still the version that was opened (If-Match on its ETag), so a
/// file replaced in the middle of a get fails instead of mixing two versions.
/// </summary>
internal sealed class S3ReadStream(S3Store store, string key, string etag, long length) : Stream
{
    private GetObjectResponse? _response;
    private Stream? _body;
    private long _bodyPosition = -1;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= length || buffer.Length == 0)
        {
            return 0;
        }

        if (_body is null || _bodyPosition != _position)
        {
            await CloseBodyAsync();
            try
            {
                _response = await store.Client.GetObjectAsync(
                    new GetObjectRequest { BucketName = store.Bucket, Key = key, ByteRange = new ByteRange(_position, length - 1), EtagToMatch = etag }, cancellationToken);
            }
            catch (AmazonS3Exception ex) when (S3Errors.IsPreconditionFailed(ex) || S3Errors.IsNotFound(ex))
            {
                throw new FileXferException(ErrorCode.SizeMismatch, "the stored file was replaced or deleted while it was being read", ex);
            }

            _body = _response.ResponseStream;
            _bodyPosition = _position;
        }

        int read = await _body.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - _position)], cancellationToken);
        _position += read;
        _bodyPosition += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("an object is read asynchronously");

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await CloseBodyAsync();
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _body?.Dispose();
            _response?.Dispose();
            _body = null;
            _response = null;
        }

        base.Dispose(disposing);
    }

    private async ValueTask CloseBodyAsync()
    {
        if (_body is not null)
        {
            await _body.DisposeAsync();
        }

        _response?.Dispose();
        _body = null;
        _response = null;
    }
}
