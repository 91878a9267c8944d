using Microsoft.Extensions.Time.Testing;

namespace FileXfer.TestKit;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also tells which timers are pending and when one is created, so a test can
/// move time past a timeout that code starts on its own schedule (an idle timeout is started by each read), and see
/// that a delay is still running, without waiting real time for either.
/// </summary>
public sealed class TestClock : FakeTimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<TrackedTimer> _pending = [];
    private TaskCompletionSource _timerCreated = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var tracked = new TrackedTimer(this, dueTime);
        lock (_lock)
        {
            _pending.Add(tracked);
        }

        tracked.Inner = base.CreateTimer(
            s =>
            {
                if (period == Timeout.InfiniteTimeSpan)
                {
                    Forget(tracked);
                }

                callback(s);
            },
            state,
            dueTime,
            period);
        Interlocked.Exchange(ref _timerCreated, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return tracked;
    }

    /// <summary>True while a timer created with <paramref name="dueTime"/> has neither fired nor been disposed.</summary>
    public bool IsPending(TimeSpan dueTime)
    {
        lock (_lock)
        {
            return _pending.Exists(t => t.DueTime == dueTime);
        }
    }

    /// <summary>Completes when the next timer is created.</summary>
    public Task NextTimerAsync() => Volatile.Read(ref _timerCreated).Task;

    /// <summary>
    /// Advances time by <paramref name="step"/>, again each time a new timer is created, until <paramref name="done"/>
    /// completes: a timeout of at most <paramref name="step"/> fires even when the code under test starts it only after
    /// this was called. Returns <paramref name="done"/>.
    /// </summary>
    public async Task AdvanceUntilAsync(Task done, TimeSpan step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(done);
        while (!done.IsCompleted)
        {
            // Taken before advancing: a timer created by what the advance sets off is not missed.
            var created = NextTimerAsync();
            Advance(step);
            await Task.WhenAny(done, created).WaitAsync(cancellationToken);
        }

        await done;
    }

    private void Forget(TrackedTimer timer)
    {
        lock (_lock)
        {
            _pending.Remove(timer);
        }
    }

    private sealed class TrackedTimer(TestClock clock, TimeSpan dueTime) : ITimer
    {
        public TimeSpan DueTime { get; } = dueTime;

        public ITimer? Inner { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period) => Inner!.Change(dueTime, period);

        public void Dispose()
        {
            clock.Forget(this);
            Inner?.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            clock.Forget(this);
            return Inner?.DisposeAsync() ?? ValueTask.CompletedTask;
        }
    }
}
