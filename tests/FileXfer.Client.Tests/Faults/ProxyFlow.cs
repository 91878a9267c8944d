using System.Buffers;
using System.Net.Sockets;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// One direction of one <see cref="ProxiedConnection"/>: the loop that reads from one socket and writes to the other,
/// applying its <see cref="DirectionFaults"/>, and what it has done so far, for assertions.
/// </summary>
public sealed class ProxyFlow
{
    private const int BufferSize = 64 * 1024;

    private readonly TimeProvider _timeProvider;
    private readonly Action<long> _forwarded;
    private readonly TaskCompletionSource _stallStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stallReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _bytes;
    private long _writes;
    private volatile bool _wasCut;
    private volatile bool _flipped;

    internal ProxyFlow(DirectionFaults faults, TimeProvider timeProvider, Action<long> forwarded)
    {
        Faults = faults;
        _timeProvider = timeProvider;
        _forwarded = forwarded;
    }

    /// <summary>The faults this direction applies.</summary>
    public DirectionFaults Faults { get; }

    /// <summary>The bytes forwarded so far (written to the receiving socket).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>The writes those bytes took: with a slice size of 1, one per byte.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>True once this direction's cut closed the connection.</summary>
    public bool WasCut => _wasCut;

    /// <summary>True once the bit at <see cref="DirectionFaults.FlipAt"/> was inverted and passed on.</summary>
    public bool Flipped => _flipped;

    /// <summary>Completes when the stall begins, that is when <see cref="DirectionFaults.StallAfter"/> bytes have been forwarded.</summary>
    public Task StallStarted => _stallStarted.Task;

    /// <summary>Ends the stall, or lets this direction pass its stall point without stopping if it has not reached it yet.</summary>
    public void ReleaseStall() => _stallReleased.TrySetResult();

    /// <summary>
    /// Forwards from <paramref name="source"/> to <paramref name="destination"/> until the source ends (passed on as
    /// a half close), a cut, a socket failure (passed on to both peers as a reset), or the proxy stops.
    /// </summary>
    internal async Task PumpAsync(Socket source, Socket destination, ProxiedConnection connection, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                // Only this loop changes _bytes, so it can read it without a barrier.
                long position = _bytes;
                if (Faults.CutAfter is { } cutAfter && position >= cutAfter)
                {
                    _wasCut = true;
                    connection.Close(Faults.CutWithReset);
                    return;
                }

                if (Faults.StallAfter is { } stallAfter && position >= stallAfter && !_stallStarted.Task.IsCompleted)
                {
                    await StallAsync(cancellationToken);
                }

                int read = await source.ReceiveAsync(buffer.AsMemory(0, ReadLimit(position, buffer.Length)), SocketFlags.None, cancellationToken);
                if (read == 0)
                {
                    // The sender is done with this direction: pass its end on and leave the other direction open.
                    destination.Shutdown(SocketShutdown.Send);
                    return;
                }

                if (Faults.FlipAt is { } flipAt && flipAt >= position && flipAt < position + read)
                {
                    buffer[(int)(flipAt - position)] ^= (byte)(1 << Faults.FlipBit);
                    _flipped = true;
                }

                await WriteAsync(destination, buffer.AsMemory(0, read), cancellationToken);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is closing already (a cut in the other direction, the proxy stopping: then this is a
            // no-op or an orderly close), or a peer broke it, which the other peer is told with a reset.
            connection.Close(reset: !cancellationToken.IsCancellationRequested);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Never reads past the next cut or stall point, so that the fault happens at exactly its byte and the bytes
    /// behind it stay with the sender.
    /// </summary>
    private int ReadLimit(long position, int bufferLength)
    {
        long limit = bufferLength;
        if (Faults.CutAfter is { } cutAfter)
        {
            limit = Math.Min(limit, cutAfter - position);
        }

        if (Faults.StallAfter is { } stallAfter && stallAfter > position)
        {
            limit = Math.Min(limit, stallAfter - position);
        }

        return (int)limit;
    }

    private async Task StallAsync(CancellationToken cancellationToken)
    {
        // The timer starts with the stall, on the proxy's clock, so a fake clock decides when it ends. It is armed
        // before the stall is announced: a test that advances its clock on the announcement must find it running.
        using var timer = Faults.StallFor is { } duration
            ? _timeProvider.CreateTimer(static state => ((TaskCompletionSource)state!).TrySetResult(), _stallReleased, duration, Timeout.InfiniteTimeSpan)
            : null;
        _stallStarted.TrySetResult();
        await _stallReleased.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteAsync(Socket destination, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        int sliceSize = Faults.SliceSize > 0 ? Faults.SliceSize : bytes.Length;
        for (int offset = 0; offset < bytes.Length; offset += sliceSize)
        {
            var slice = bytes.Slice(offset, Math.Min(sliceSize, bytes.Length - offset));
            int length = slice.Length;
            while (!slice.IsEmpty)
            {
                slice = slice[await destination.SendAsync(slice, SocketFlags.None, cancellationToken)..];
            }

            Interlocked.Increment(ref _writes);
            Interlocked.Add(ref _bytes, length);
            _forwarded(length);
        }
    }
}
