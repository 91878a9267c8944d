using System.Net.Sockets;

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

    /// <summary>The clock <see cref="IdleTimeout"/> is measured on. Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// The connection's socket, when the caller wants large bodies received with fewer wake-ups
    /// (<see cref="ExpectBody"/>). Only for a plain TCP connection: under TLS the bytes on the socket are not the
    /// bytes of the body.
    /// </summary>
    public Socket? Socket { get; init; }

    private int _lowWater = 1;

    /// <summary>
    /// Tells the connection that at least <paramref name="bytes"/> more bytes are sure to come before the other
    /// side waits for an answer, so a reader need not be woken for less (Linux <c>SO_RCVLOWAT</c>, capped at
    /// 256 KiB). 1 (or less) restores the default: wake for every byte. Without <see cref="Socket"/>, or off Linux,
    /// nothing happens.
    /// </summary>
    public void ExpectBody(long bytes)
    {
        if (Socket is null || !OperatingSystem.IsLinux())
        {
            return;
        }

        int lowWater = (int)Math.Clamp(bytes, 1, MaxLowWater);
        if (lowWater == _lowWater)
        {
            return;
        }

        try
        {
            Socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveLowWater, lowWater);
            _lowWater = lowWater;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Only a hint: a closed socket fails on the next read with the real error.
        }
    }

    private const int MaxLowWater = 256 * 1024;

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
        catch (Exception ex) when (Lost(ex, stall, cancellationToken) is { } lost)
        {
            throw lost;
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
        catch (Exception ex) when (Lost(ex, stall, cancellationToken) is { } lost)
        {
            throw lost;
        }
    }

    /// <summary>What a failed read or write means for the connection: lost (stalled, reset, closed), or null to let it through.</summary>
    private ConnectionLostException? Lost(Exception exception, LinkedTimeoutSource? stall, CancellationToken cancellationToken) => exception switch
    {
        OperationCanceledException when stall is not null && !cancellationToken.IsCancellationRequested => Stalled(exception),
        ConnectionLostException => null,
        IOException => new ConnectionLostException($"connection lost: {exception.Message}", exception),
        ObjectDisposedException => new ConnectionLostException("connection closed", exception),
        _ => null,
    };

    private LinkedTimeoutSource? StallToken(CancellationToken cancellationToken) =>
        IdleTimeout is { } timeout ? new LinkedTimeoutSource(timeout, TimeProvider, cancellationToken) : null;

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
