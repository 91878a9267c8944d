namespace FileXfer.Client;

/// <summary>
/// One connection's rate of receiving a ranged get's bytes, and from it when the connection asks for its next range
/// (<see cref="FileXferClient.GetRangesAsync"/>): once what is left of the current range would take it no more than
/// <see cref="LeadRoundTrips"/> round trips at that rate. The next range's Get then reaches the server while the
/// current range is still on its way, so its bytes follow with no pause; yet the connection does not hold a range it
/// would start only much later. Asking as soon as the current range's Data came held every connection a whole range
/// ahead: at 80 ms a connection the link treated worse (a loss early in its slow start) kept two long ranges to itself
/// and finished 1.3–2.5 s after the others (docs/performance/issue-17-wan-w6-w7.md, "Where a ranged get
/// loses its time").
/// </summary>
internal sealed class RangeReceiveRate(TimeProvider timeProvider)
{
    /// <summary>
    /// Round trips of bytes left in the current range when the next is asked for: one for the Get to go and the first
    /// bytes to come back, the rest for a round trip that a full queue on the path lengthens and for a rate still
    /// growing.
    /// </summary>
    internal const int LeadRoundTrips = 3;

    private long _since = -1;
    private long _bytes;

    /// <summary>A range's body starts arriving: the rate is measured from the first one's.</summary>
    public void Start()
    {
        if (_since < 0)
        {
            _since = timeProvider.GetTimestamp();
        }
    }

    /// <summary>Counts <paramref name="bytes"/> more received.</summary>
    public void Received(long bytes) => _bytes += bytes;

    /// <summary>
    /// The bytes that arrive over <see cref="LeadRoundTrips"/> round trips of <paramref name="roundTrip"/> at the rate
    /// measured since <see cref="Start"/>; null while there is none (no byte counted, or no time elapsed).
    /// </summary>
    public long? Lead(TimeSpan roundTrip)
    {
        if (_since < 0 || _bytes == 0)
        {
            return null;
        }

        double seconds = timeProvider.GetElapsedTime(_since).TotalSeconds;
        if (seconds <= 0)
        {
            return null;
        }

        double lead = _bytes / seconds * roundTrip.TotalSeconds * LeadRoundTrips;
        return lead >= long.MaxValue / 2 ? long.MaxValue / 2 : (long)lead;
    }
}
