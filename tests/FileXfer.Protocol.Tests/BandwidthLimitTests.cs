using FileXfer.Protocol.Net;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Protocol.Tests;

/// <summary>
/// --bwlimit: the token bucket's arithmetic and the throttled stream's waits, on a fake clock (the measured rate
/// over a real link is the benchmark's, not a timed test's); and the rates the option reads.
/// </summary>
public sealed class BandwidthLimitTests
{
    [Fact]
    public void The_bucket_lets_a_burst_through_then_asks_for_the_time_the_rest_needs()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, burst: 500, time);

        Assert.Equal(TimeSpan.Zero, bucket.Take(500));
        Assert.Equal(TimeSpan.FromSeconds(0.25), bucket.Take(250));
        Assert.Equal(TimeSpan.FromSeconds(0.5), bucket.Take(250));
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(TimeSpan.FromSeconds(0.25), bucket.Take(250));
    }

    [Fact]
    public void A_long_pause_fills_the_bucket_only_up_to_its_burst()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, burst: 500, time);
        bucket.Take(500);

        time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(TimeSpan.Zero, bucket.Take(500));
        Assert.Equal(TimeSpan.FromSeconds(0.1), bucket.Take(100));
    }

    [Fact]
    public void The_default_burst_is_a_tenth_of_a_second_and_at_least_4_KiB()
    {
        Assert.Equal(100_000, new TokenBucket(1_000_000).Burst);
        Assert.Equal(4096, new TokenBucket(1000).Burst);
    }

    [Fact(Timeout = 60000)]
    public async Task A_throttled_write_goes_out_in_bursts_as_the_clock_allows()
    {
        var token = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, burst: 1000, time);
        var sink = new SignallingStream();
        await using var stream = new ThrottledStream(sink, bucket);

        var writing = stream.WriteAsync(new byte[3000], token).AsTask();

        // The first burst goes at once; each next one waits for its second on the fake clock.
        Assert.Equal(1000, sink.Length);
        Assert.False(writing.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        await sink.WaitForLengthAsync(2000, token);
        Assert.False(writing.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        await writing.WaitAsync(TimeSpan.FromSeconds(10), token);
        Assert.Equal(3000, sink.Length);
    }

    [Fact(Timeout = 60000)]
    public async Task A_throttled_read_takes_at_most_a_burst_and_then_waits_for_it()
    {
        var token = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, burst: 1000, time);
        await using var stream = new ThrottledStream(new MemoryStream(new byte[5000]), bucket);
        var buffer = new byte[4096];

        Assert.Equal(1000, await stream.ReadAsync(buffer, token));
        var second = stream.ReadAsync(buffer, token).AsTask();
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1000, await second.WaitAsync(TimeSpan.FromSeconds(10), token));
    }

    [Theory]
    [InlineData("500", 500 * 1024)]
    [InlineData("1.5M", 1536 * 1024)]
    [InlineData("100KiB", 100 * 1024)]
    [InlineData("2g", 2L * 1024 * 1024 * 1024)]
    [InlineData("64000B", 64000)]
    [InlineData(" 10 MB ", 10 * 1024 * 1024)]
    public void Rates_are_read_as_rsync_reads_them(string text, long bytesPerSecond)
    {
        Assert.True(BandwidthRate.TryParse(text, out long parsed, out var error), error);
        Assert.Equal(bytesPerSecond, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("fast")]
    [InlineData("-5")]
    [InlineData("0")]
    [InlineData("0.5B")]
    [InlineData("10T")]
    [InlineData("1e3")]
    public void Other_rates_are_refused_with_the_reason(string text)
    {
        Assert.False(BandwidthRate.TryParse(text, out _, out var error));
        Assert.StartsWith($"'{text}' is not a rate", error, StringComparison.Ordinal);
    }

    /// <summary>A memory stream that tells when it has received a number of bytes (written by the clock's continuations).</summary>
    private sealed class SignallingStream : MemoryStream
    {
        private readonly Lock _lock = new();
        private readonly List<(long Length, TaskCompletionSource Reached)> _waiters = [];

        public Task WaitForLengthAsync(long length, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                if (Length >= length)
                {
                    return Task.CompletedTask;
                }

                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((length, reached));
                return reached.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await base.WriteAsync(buffer, cancellationToken);
            lock (_lock)
            {
                foreach (var waiter in _waiters.Where(w => Length >= w.Length).ToList())
                {
                    waiter.Reached.TrySetResult();
                    _waiters.Remove(waiter);
                }
            }
        }
    }
}
