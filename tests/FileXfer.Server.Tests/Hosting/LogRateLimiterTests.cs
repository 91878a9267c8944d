using FileXfer.Server.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Server.Tests.Hosting;

/// <summary>The limiter that keeps a flood of failed connections from becoming a flood of log lines.</summary>
public class LogRateLimiterTests
{
    [Fact]
    public void A_burst_goes_through_then_lines_are_counted_and_the_next_window_reports_them()
    {
        var time = new FakeTimeProvider();
        var limiter = new LogRateLimiter(burst: 2, TimeSpan.FromSeconds(10), time);

        bool[] first = [.. Enumerable.Range(0, 5).Select(_ => limiter.TryAcquire(out _))];
        time.Advance(TimeSpan.FromSeconds(9));
        bool stillLimited = limiter.TryAcquire(out _);
        time.Advance(TimeSpan.FromSeconds(1));
        bool next = limiter.TryAcquire(out int suppressed);
        bool afterReport = limiter.TryAcquire(out int suppressedAgain);

        Assert.Equal([true, true, false, false, false], first);
        Assert.False(stillLimited);
        Assert.True(next);
        Assert.Equal(4, suppressed);
        Assert.True(afterReport);
        Assert.Equal(0, suppressedAgain);
    }
}
