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
    public async Task A_first_attempt_that_succeeds_builds_no_pipeline()
    {
        var retry = TransferRetry.Create(3, new FakeTimeProvider(), onRetry: null);
        Assert.Equal(42, await retry.ExecuteAsync(_ => ValueTask.FromResult(42), TestContext.Current.CancellationToken));
        Assert.False(retry.IsPipelineBuilt);
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

        // The failed first attempt is not run again to replay it, and the retry waits for the clock.
        Assert.Equal(1, attempts);
        Assert.Same(first, seen[0].Failure);
        Assert.Equal(0, seen[0].Attempt);
        Assert.InRange(seen[0].Delay, TimeSpan.FromTicks(1), TransferRetry.MaxDelay);
        Assert.False(run.IsCompleted);
        time.Advance(seen[0].Delay);
        Assert.Equal(2, await run);
        Assert.True(retry.IsPipelineBuilt);
    }
}
