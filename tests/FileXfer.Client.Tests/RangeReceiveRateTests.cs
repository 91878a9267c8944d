using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Client.Tests;

/// <summary>
/// When a connection receiving a ranged get asks for its next range: the bytes it receives over three round trips at
/// the rate it has received so far, on a clock the test moves.
/// </summary>
public class RangeReceiveRateTests
{
    [Fact]
    public void No_lead_is_known_before_a_byte_arrived_or_any_time_passed()
    {
        var time = new FakeTimeProvider();
        var rate = new RangeReceiveRate(time);
        Assert.Null(rate.Lead(TimeSpan.FromMilliseconds(80)));

        rate.Start();
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(rate.Lead(TimeSpan.FromMilliseconds(80)));

        var frozen = new RangeReceiveRate(new FakeTimeProvider());
        frozen.Start();
        frozen.Received(1_000_000);
        Assert.Null(frozen.Lead(TimeSpan.FromMilliseconds(80)));
    }

    [Fact]
    public void The_lead_is_three_round_trips_at_the_rate_since_the_first_range_started()
    {
        var time = new FakeTimeProvider();
        var rate = new RangeReceiveRate(time);
        rate.Start();
        rate.Received(3_000_000);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(900_000, rate.Lead(TimeSpan.FromMilliseconds(100)));

        // A later range's start does not restart the measure: 6 MB in 3 s.
        time.Advance(TimeSpan.FromSeconds(2));
        rate.Start();
        rate.Received(3_000_000);
        Assert.Equal(600_000, rate.Lead(TimeSpan.FromMilliseconds(100)));
        Assert.Equal(0, rate.Lead(TimeSpan.Zero));
    }
}
