using Microsoft.Extensions.Logging;

namespace FileXfer.TestKit;

/// <summary>
/// An <see cref="ILogger"/> that keeps every message, so tests can assert on what the server logged and wait for an
/// event (a connection closed, a stop begun) instead of polling.
/// </summary>
public sealed class RecordingLogger : ILogger
{
    private readonly Lock _lock = new();
    private readonly List<LogEntry> _entries = [];
    private readonly List<(Func<LogEntry, bool> Match, TaskCompletionSource Signal)> _waiters = [];

    /// <summary>A copy of every entry so far, in order.</summary>
    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>The entries with this event id so far.</summary>
    public IReadOnlyList<LogEntry> WithEvent(int eventId) => [.. Entries.Where(e => e.EventId.Id == eventId)];

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => true;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        var entry = new LogEntry(logLevel, eventId, formatter(state, exception), exception);
        List<TaskCompletionSource> matched = [];
        lock (_lock)
        {
            _entries.Add(entry);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(entry))
                {
                    matched.Add(_waiters[i].Signal);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var signal in matched)
        {
            signal.TrySetResult();
        }
    }

    /// <summary>
    /// Fails if anything was logged at Error or above: an unexpected failure inside a request is a server bug,
    /// whatever the test was about.
    /// </summary>
    public void ThrowIfErrorsLogged()
    {
        var errors = Entries.Where(entry => entry.Level >= LogLevel.Error).Select(entry => $"{entry.Message} {entry.Exception}").ToList();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("the server logged errors:\n" + string.Join("\n", errors));
        }
    }

    /// <summary>
    /// Completes when at least <paramref name="count"/> entries with <paramref name="eventId"/> were logged; fails with
    /// the log so far after <paramref name="timeout"/> (a safety net: the event is expected much sooner).
    /// </summary>
    public Task WaitForEventAsync(int eventId, int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        int seen = 0;
        return WaitAsync(e => e.EventId.Id == eventId && ++seen >= count, count <= 0, timeout, cancellationToken);
    }

    /// <summary>Completes with the first message, logged so far or later, that satisfies <paramref name="predicate"/>; fails with the log after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        string? found = null;
        await WaitAsync(
            e =>
            {
                if (!predicate(e.Message))
                {
                    return false;
                }

                found = e.Message;
                return true;
            },
            done: false,
            timeout,
            cancellationToken);
        return found!;
    }

    private async Task WaitAsync(Func<LogEntry, bool> match, bool done, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            // The entries so far first, then later ones as they come: none is missed in between.
            if (done || _entries.Any(match))
            {
                return;
            }

            _waiters.Add((match, signal));
        }

        try
        {
            await signal.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"nothing matching was logged within {timeout.TotalSeconds:F0} s; the log:\n{string.Join("\n", Entries.Select(e => e.Message))}", ex);
        }
    }
}
