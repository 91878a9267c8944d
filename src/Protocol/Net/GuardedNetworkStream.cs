namespace FileXfer.Protocol.Net;

/// <summary>
/// Wraps the stream of a connection so that every I/O failure on it surfaces as a
/// <see cref="ConnectionLostException"/>. Callers can then tell a broken connection from a local file error,
/// which stays a plain <see cref="IOException"/>.
/// </summary>
public sealed class GuardedNetworkStream(Stream inner) : Stream
{
    private readonly Stream _inner = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <summary>
    /// When set, a read or write that makes no progress for this long fails with
    /// <see cref="ConnectionLostException"/>: the connection stalled.
    /// </summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <inheritdoc />
    public override bool CanRead => _inner.CanRead;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => _inner.CanWrite;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var stall = StallToken(cancellationToken);
        try
        {
            return await _inner.ReadAsync(buffer, stall?.Token ?? cancellationToken);
        }
        catch (OperationCanceledException ex) when (stall is not null && !cancellationToken.IsCancellationRequested)
        {
            throw Stalled(ex);
        }
        catch (IOException ex) when (ex is not ConnectionLostException)
        {
            throw new ConnectionLostException($"connection lost: {ex.Message}", ex);
        }
        catch (ObjectDisposedException ex)
        {
            throw new ConnectionLostException("connection closed", ex);
        }
    }

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var stall = StallToken(cancellationToken);
        try
        {
            await _inner.WriteAsync(buffer, stall?.Token ?? cancellationToken);
        }
        catch (OperationCanceledException ex) when (stall is not null && !cancellationToken.IsCancellationRequested)
        {
            throw Stalled(ex);
        }
        catch (IOException ex) when (ex is not ConnectionLostException)
        {
            throw new ConnectionLostException($"connection lost: {ex.Message}", ex);
        }
        catch (ObjectDisposedException ex)
        {
            throw new ConnectionLostException("connection closed", ex);
        }
    }

    private CancellationTokenSource? StallToken(CancellationToken cancellationToken)
    {
        if (IdleTimeout is not { } timeout)
        {
            return null;
        }

        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(timeout);
        return source;
    }

    private ConnectionLostException Stalled(Exception inner) =>
        new($"the connection stalled: no progress for {IdleTimeout!.Value.TotalSeconds:F0} s", inner);

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public override void Flush() => _inner.Flush();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("connections are read asynchronously");

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("connections are written asynchronously");

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
