namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// What a <see cref="FaultProxy"/> does to one direction of one connection. Every position is a byte offset in that
/// direction's stream, counted from the first byte its sender wrote on the connection. Immutable; combine faults
/// with <c>with</c>, e.g. <c>DirectionFaults.Slice(1) with { FlipAt = 200_000 }</c>.
/// </summary>
public sealed record DirectionFaults
{
    /// <summary>Forwards the bytes as they come.</summary>
    public static DirectionFaults None { get; } = new();

    /// <summary>
    /// Once this many bytes have been forwarded, both sockets of the connection are closed (0: before any byte).
    /// The proxy reads no further than this, so the receiving peer gets exactly these bytes and then the end of the
    /// stream (unless <see cref="CutWithReset"/>).
    /// </summary>
    public long? CutAfter
    {
        get;
        init => field = value is null or >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a cut position cannot be negative");
    }

    /// <summary>
    /// With <see cref="CutAfter"/>: both peers see a TCP reset (linger 0) instead of an orderly end. Bytes the proxy
    /// forwarded that are still in its send buffer are then lost, so the receiver may get fewer than
    /// <see cref="CutAfter"/>.
    /// </summary>
    public bool CutWithReset { get; init; }

    /// <summary>Once this many bytes have been forwarded, forwarding (and reading) stops for a while; nothing is closed.</summary>
    public long? StallAfter
    {
        get;
        init => field = value is null or >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a stall position cannot be negative");
    }

    /// <summary>
    /// How long a stall lasts, measured on the proxy's <see cref="TimeProvider"/>. Null: until released with
    /// <see cref="ProxyFlow.ReleaseStall"/>, <see cref="ProxiedConnection.ReleaseStalls"/> or
    /// <see cref="FaultProxy.ReleaseStalls"/>, or until the proxy is disposed.
    /// </summary>
    public TimeSpan? StallFor
    {
        get;
        init => field = value is null || value >= TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a stall cannot last a negative time");
    }

    /// <summary>0: bytes are written as they were read. k &gt; 0: they are written k bytes (or fewer, at the end of a read) at a time.</summary>
    public int SliceSize
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a slice size cannot be negative");
    }

    /// <summary>The offset of the byte in which one bit (<see cref="FlipBit"/>) is inverted on its way through.</summary>
    public long? FlipAt
    {
        get;
        init => field = value is null or >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a flip position cannot be negative");
    }

    /// <summary>Which bit of the byte at <see cref="FlipAt"/> is inverted: 0 (least significant) to 7.</summary>
    public int FlipBit
    {
        get;
        init => field = value is >= 0 and <= 7 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a byte has bits 0 to 7");
    }

    /// <summary>Closes the connection after <paramref name="after"/> bytes, with a reset when <paramref name="reset"/>.</summary>
    public static DirectionFaults Cut(long after, bool reset = false) => new() { CutAfter = after, CutWithReset = reset };

    /// <summary>Stops forwarding after <paramref name="after"/> bytes, for <paramref name="duration"/> or until released.</summary>
    public static DirectionFaults Stall(long after, TimeSpan? duration = null) => new() { StallAfter = after, StallFor = duration };

    /// <summary>Forwards in writes of at most <paramref name="size"/> bytes.</summary>
    public static DirectionFaults Slice(int size = 1) => size > 0 ? new() { SliceSize = size } : throw new ArgumentOutOfRangeException(nameof(size), size, "a slice holds at least one byte");

    /// <summary>Inverts bit <paramref name="bit"/> of the byte at <paramref name="offset"/>.</summary>
    public static DirectionFaults Flip(long offset, int bit = 0) => new() { FlipAt = offset, FlipBit = bit };
}
