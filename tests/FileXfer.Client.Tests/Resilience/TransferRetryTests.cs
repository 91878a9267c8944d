using System.Net.Sockets;
using FileXfer.Client.Resilience;
using FileXfer.Protocol;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Client.Tests.Resilience;

/// <summary>The retry pipeline: which faults it retries, how often, and on which clock.</summary>
public class TransferRetryTests
{
    public static TheoryData<Exception> Transient =>
    [
        new ConnectionFailedException("refused"),
        new ConnectionLostException("reset"),
        new SocketException((int)SocketError.ConnectionReset),
        new TimeoutException(),
        new SourceChangedException("grew"),
        new FileXferException(ErrorCode.Unavailable, "stopping"),
        new FileXferException(ErrorCode.IntegrityMismatch, "flipped bit"),
        new FileXferException(ErrorCode.TransferAborted, "aborted"),
    ];

    public static TheoryData<Exception> Permanent =>
    [
        new FileXferException(ErrorCode.NotFound, "missing"),
        new FileXferException(ErrorCode.AccessDenied, "denied"),
        new FileXferException(ErrorCode.AuthenticationFailed, "who"),
        new FileXferException(ErrorCode.InvalidPath, "bad"),
        new FileXferException(ErrorCode.InsufficientStorage, "full"),
        new ProtocolViolationException("garbage"),
        new FileNotFoundException("local"),
        new InvalidOperationException("bug"),
    ];

    [Theory]
    [MemberData(nameof(Transient))]
    public void Transient_faults_are_retried(Exception exception) => Assert.True(TransferRetry.IsTransient(exception));

    [Theory]
    [MemberData(nameof(Permanent))]
    public void Usage_not_found_denied_and_full_disk_are_not_retried(Exception exception) => Assert.False(TransferRetry.IsTransient(exception));

    [Fact(Timeout = 10000)]
    public async Task Retries_wait_with_growing_delays_on_the_given_clock_then_give_up()
    {
        var time = new FakeTimeProvider();
        var delays = new List<TimeSpan>();
        var pipeline = TransferRetry.Create(3, time, (_, _, delay) =>
        {
            delays.Add(delay);
            return ValueTask.CompletedTask;
        });
        int attempts = 0;
        var run = pipeline.ExecuteAsync(_ =>
        {
            attempts++;
            throw new ConnectionLostException("cut");
        }, TestContext.Current.CancellationToken).AsTask();

        // Nothing but the fake clock moves the retries along.
        for (int i = 0; i < 3; i++)
        {
            while (delays.Count <= i)
            {
                await Task.Yield();
            }

            Assert.Equal(i + 1, attempts);
            time.Advance(delays[i]);
        }

        await Assert.ThrowsAsync<ConnectionLostException>(() => run);
        Assert.Equal(4, attempts);
        // Jittered (decorrelated) backoff: each delay is positive and bounded, not strictly growing.
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromTicks(1), TransferRetry.MaxDelay));
    }

    [Fact(Timeout = 10000)]
    public async Task A_permanent_failure_is_not_retried()
    {
        var pipeline = TransferRetry.Create(5, new FakeTimeProvider(), onRetry: null);
        int attempts = 0;
        await Assert.ThrowsAsync<FileXferException>(() => pipeline.ExecuteAsync(_ =>
        {
            attempts++;
            throw new FileXferException(ErrorCode.NotFound, "missing");
        }, TestContext.Current.CancellationToken).AsTask());
        Assert.Equal(1, attempts);
    }

    [Fact(Timeout = 10000)]
    public async Task Zero_retries_runs_once()
    {
        var pipeline = TransferRetry.Create(0, new FakeTimeProvider(), onRetry: null);
        int attempts = 0;
        await Assert.ThrowsAsync<ConnectionLostException>(() => pipeline.ExecuteAsync(_ =>
        {
            attempts++;
            throw new ConnectionLostException("cut");
        }, TestContext.Current.CancellationToken).AsTask());
        Assert.Equal(1, attempts);
    }

    [Fact(Timeout = 10000)]
    public async Task The_first_failure_is_reported_as_attempt_0_and_the_retry_runs_after_its_delay()
    {
        var time = new FakeTimeProvider();
        var first = new ConnectionLostException("cut");
        var seen = new List<(Exception Failure, int Attempt, TimeSpan Delay)>();
        var retry = TransferRetry.Create(2, time, (failure, attempt, delay) =>
        {
            seen.Add((failure, attempt, delay));
            return ValueTask.CompletedTask;
        });
        int attempts = 0;
        var run = retry.ExecuteAsync(_ => ++attempts == 1 ? throw first : ValueTask.FromResult(attempts), TestContext.Current.CancellationToken).AsTask();
        while (seen.Count == 0)
        {
            await Task.Yield();
        }

        Assert.Equal(1, attempts);
        Assert.Same(first, seen[0].Failure);
        Assert.Equal(0, seen[0].Attempt);
        Assert.False(run.IsCompleted);
        time.Advance(seen[0].Delay);
        Assert.Equal(2, await run);
    }

    [Fact(Timeout = 10000)]
    public async Task Canceling_during_a_delay_ends_the_retries()
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        int retries = 0;
        var retry = TransferRetry.Create(5, new FakeTimeProvider(), (_, _, _) =>
        {
            retries++;
            return ValueTask.CompletedTask;
        });
        int attempts = 0;
        var run = retry.ExecuteAsync(_ =>
        {
            attempts++;
            throw new ConnectionLostException("cut");
        }, cancel.Token).AsTask();
        while (retries == 0)
        {
            await Task.Yield();
        }

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public void Delays_start_near_the_base_delay_roughly_double_and_stay_within_the_maximum()
    {
        var delays = new List<TimeSpan>[8];
        for (int n = 0; n < delays.Length; n++)
        {
            delays[n] = [];
        }

        for (int run = 0; run < 2000; run++)
        {
            var backoff = new TransferRetry.Backoff();
            for (int n = 0; n < delays.Length; n++)
            {
                delays[n].Add(backoff.Next(n));
            }
        }

        Assert.All(delays.SelectMany(d => d), d => Assert.InRange(d, TimeSpan.FromTicks(1), TransferRetry.MaxDelay));
        Assert.All(delays[0], d => Assert.True(d < TimeSpan.FromSeconds(0.7)));
        var medians = delays.Select(d => d.Order().ElementAt(d.Count / 2).TotalSeconds).ToArray();
        Assert.InRange(medians[0], 0.35, 0.55);
        // Jittered, so not exactly: the medians grow, from the third on about twofold, up to the cap.
        Assert.InRange(medians[1] / medians[0], 1.1, 1.5);
        for (int n = 2; n < 6; n++)
        {
            Assert.InRange(medians[n] / medians[n - 1], 1.6, 2.4);
        }

        Assert.InRange(medians[^1], 25, TransferRetry.MaxDelay.TotalSeconds);
    }
}
