namespace FileXfer.Protocol.Framing;

/// <summary>Converts between <see cref="DateTimeOffset"/> and the wire's nanoseconds since the Unix epoch.</summary>
public static class UnixTime
{
    /// <summary>Nanoseconds since 1970-01-01T00:00:00Z, at the 100 ns resolution of .NET times.</summary>
    /// <remarks>Times outside the 64-bit nanosecond range (before 1677 or after 2262) are clamped to its ends.</remarks>
    public static long ToNanoseconds(DateTimeOffset time)
    {
        long ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return ticks > long.MaxValue / 100 ? long.MaxValue
            : ticks < long.MinValue / 100 ? long.MinValue
            : ticks * 100;
    }

    /// <summary>The time for a count of nanoseconds since the epoch, clamped to the range .NET can hold.</summary>
    public static DateTimeOffset FromNanoseconds(long nanoseconds)
    {
        long ticks = (nanoseconds / 100) + DateTimeOffset.UnixEpoch.UtcTicks;
        ticks = Math.Clamp(ticks, DateTimeOffset.MinValue.UtcTicks, DateTimeOffset.MaxValue.UtcTicks);
        return new DateTimeOffset(ticks, TimeSpan.Zero);
    }
}
