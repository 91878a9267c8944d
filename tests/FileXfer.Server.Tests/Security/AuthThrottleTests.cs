using System.Net;
using FileXfer.Server.Security;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Server.Tests.Security;

/// <summary>The per-address memory of failed authentications, on a fake clock.</summary>
public sealed class AuthThrottleTests
{
    private static readonly IPAddress Guesser = IPAddress.Parse("192.0.2.7");

    [Fact]
    public void The_delay_grows_by_one_step_per_recent_failure_up_to_the_cap()
    {
        var throttle = new AuthThrottle(new AuthThrottleOptions { TimeProvider = new FakeTimeProvider(), MaxFailures = 100 });

        var delays = Enumerable.Range(0, 7).Select(_ => throttle.RecordFailure(Guesser).TotalSeconds).ToArray();

        Assert.Equal([1, 2, 3, 4, 5, 5, 5], delays);
    }

    [Fact]
    public void Failures_older_than_the_window_no_longer_count()
    {
        var time = new FakeTimeProvider();
        var throttle = new AuthThrottle(new AuthThrottleOptions { TimeProvider = time, MaxFailures = 3, Window = TimeSpan.FromMinutes(10) });
        throttle.RecordFailure(Guesser);
        throttle.RecordFailure(Guesser);

        time.Advance(TimeSpan.FromMinutes(11));

        Assert.Equal(TimeSpan.FromSeconds(1), throttle.RecordFailure(Guesser));
        Assert.False(throttle.IsLockedOut(Guesser));
    }

    [Fact]
    public void The_lockout_is_per_address_and_ends_after_its_period()
    {
        var time = new FakeTimeProvider();
        var throttle = new AuthThrottle(new AuthThrottleOptions { TimeProvider = time, MaxFailures = 3, Lockout = TimeSpan.FromMinutes(5) });
        for (int i = 0; i < 3; i++)
        {
            throttle.RecordFailure(Guesser);
        }

        Assert.True(throttle.IsLockedOut(Guesser));
        Assert.True(throttle.IsLockedOut(Guesser.MapToIPv6()));
        Assert.False(throttle.IsLockedOut(IPAddress.Parse("192.0.2.8")));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(throttle.IsLockedOut(Guesser));
    }

    [Fact]
    public void The_table_stays_bounded_when_many_addresses_fail()
    {
        var time = new FakeTimeProvider();
        var throttle = new AuthThrottle(new AuthThrottleOptions { TimeProvider = time, MaxTrackedAddresses = 100 });

        for (int i = 0; i < 1000; i++)
        {
            throttle.RecordFailure(new IPAddress([10, 0, (byte)(i / 256), (byte)(i % 256)]));
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.InRange(throttle.TrackedAddresses, 1, 100);
        // The newest address is remembered; the ones idle longest were forgotten.
        Assert.Equal(TimeSpan.FromSeconds(2), throttle.RecordFailure(new IPAddress([10, 0, 3, 231])));
    }
}
