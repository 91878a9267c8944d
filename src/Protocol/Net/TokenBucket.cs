using System.Diagnostics;

namespace FileXfer.Protocol.Net;

/// <summary>
/// A token bucket on a <see cref="TimeProvider"/>: <see cref="BytesPerSecond"/> tokens flow in, at most
/// <see cref="Burst"/> are kept. <see cref="Take"/> spends tokens for bytes about to move and says how long to wait
/// first when there were not enough, so that over any stretch of time the bytes moved stay within the rate plus one
/// burst. Thread-safe: the two directions of a connection may share one bucket.
/// </summary>
public sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private double _tokens;
    private long _last;

    /// <param name="bytesPerSecond">The rate, at least 1.</param>
    /// <param name="burst">Most bytes sent at once after a pause; by default a tenth of a second's worth, at least 4 KiB.</param>
    /// <param name="time">The clock; the system's by default.</param>
    public TokenBucket(long bytesPerSecond, long? burst = null, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1);
        BytesPerSecond = bytesPerSecond;
        Burst = burst ?? Math.Max(4096, bytesPerSecond / 10);
        ArgumentOutOfRangeException.ThrowIfLessThan(Burst, 1, nameof(burst));
        Time = time ?? TimeProvider.System;
        _tokens = Burst;
        _last = Time.GetTimestamp();
    }

    public long BytesPerSecond { get; }

    public long Burst { get; }

    /// <summary>The clock the tokens flow in on, and the waits run on.</summary>
    public TimeProvider Time { get; }

    /// <summary>
    /// Spends tokens for <paramref name="bytes"/> (which may leave the bucket in debt) and returns how long to wait
    /// before moving them: zero while the bucket held enough.
    /// </summary>
    public TimeSpan Take(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_lock)
        {
            long now = Time.GetTimestamp();
            double elapsed = (now - _last) / (double)Time.TimestampFrequency;
            _last = now;
            _tokens = Math.Min(Burst, _tokens + (elapsed * BytesPerSecond));
            _tokens -= bytes;
            Debug.Assert(!double.IsNaN(_tokens), "tokens are a number");
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / BytesPerSecond);
        }
    }
}
