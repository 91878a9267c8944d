using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FileXfer.Client.Tests;

/// <summary>A logger that keeps what the in-process server logs, so tests can look at it.</summary>
public sealed class RecordingLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, EventId EventId, string Message)> _entries = new();

    private event Action? Logged;

    /// <summary>Everything logged so far, in order.</summary>
    public IReadOnlyList<(LogLevel Level, EventId EventId, string Message)> Entries => [.. _entries];

    /// <summary>Completes when an entry whose message satisfies <paramref name="predicate"/> was logged; fails after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            foreach (var entry in _entries)
            {
                if (predicate(entry.Message))
                {
                    found.TrySetResult(entry.Message);
                    return;
                }
            }
        }

        Logged += Check;
        try
        {
            // Checked after subscribing, so an entry logged in between is not missed.
            Check();
            return await found.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"nothing matching was logged within {timeout.TotalSeconds:F0} s; the log:\n{string.Join("\n", Entries.Select(e => e.Message))}");
            throw;
        }
        finally
        {
            Logged -= Check;
        }
    }

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => true;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        var message = formatter(state, exception);
        _entries.Enqueue((logLevel, eventId, exception is null ? message : $"{message}\n{exception}"));
        Logged?.Invoke();
    }
}
