using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Tests;

/// <summary>
/// An <see cref="ILogger"/> that keeps every message, so tests can assert on what the server logged and wait
/// for an event (a connection closed, a stop begun) instead of polling the file system.
/// </summary>
public sealed class CapturingLogger : ILogger
{
    private readonly Lock _lock = new();
    private readonly List<LogEntry> _entries = [];
    private readonly List<(Func<LogEntry, bool> Match, TaskCompletionSource Signal)> _waiters = [];

    /// <summary>A copy of every entry so far.</summary>
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

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

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

    /// <summary>Completes when at least <paramref name="count"/> entries with <paramref name="eventId"/> were logged.</summary>
    public Task WaitForEventAsync(int eventId, int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            int seen = _entries.Count(e => e.EventId.Id == eventId);
            if (seen >= count)
            {
                return Task.CompletedTask;
            }

            _waiters.Add((e => e.EventId.Id == eventId && ++seen >= count, signal));
        }

        return signal.Task.WaitAsync(timeout, cancellationToken);
    }
}
