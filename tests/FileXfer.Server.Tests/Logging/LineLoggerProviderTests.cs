using FileXfer.Server.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Server.Tests.Logging;

/// <summary>
/// The server's log lines: format, order, nothing lost when the provider is disposed; and an output that fails or
/// is stuck costs lines (counted and reported), never a blocked log call.
/// </summary>
public class LineLoggerProviderTests
{
    [Fact]
    public void Lines_carry_time_level_category_event_id_and_message_in_order()
    {
        var output = new StringWriter { NewLine = "\n" };
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 1, 2, 3, 456, TimeSpan.Zero));
        using (var provider = new LineLoggerProvider(output, time))
        {
            var logger = provider.CreateLogger("FileXfer.Server");
            for (int i = 0; i < 1000; i++)
            {
                logger.Log(LogLevel.Information, new EventId(6), i, null, (n, _) => $"request {n}");
            }

            logger.Log(LogLevel.Warning, new EventId(4), "connection failed", new IOException("reset"), (s, _) => s);
        }

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1001, lines.Length);
        Assert.Equal("2026-11-27T01:02:03.456Z info: FileXfer.Server[6] request 0", lines[0]);
        Assert.Equal("2026-11-27T01:02:03.456Z info: FileXfer.Server[6] request 999", lines[999]);
        Assert.Equal("2026-11-27T01:02:03.456Z warn: FileXfer.Server[4] connection failed (IOException: reset)", lines[1000]);
    }

    [Fact(Timeout = 60000)]
    public async Task A_failed_write_drops_its_lines_and_the_next_write_that_works_says_how_many()
    {
        var token = TestContext.Current.CancellationToken;
        var output = new FailingWriter { Failing = true };
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 1, 2, 3, 456, TimeSpan.Zero));
        using (var provider = new LineLoggerProvider(output, time))
        {
            var logger = provider.CreateLogger("FileXfer.Server");
            for (int i = 0; i < 3; i++)
            {
                logger.Log(LogLevel.Information, new EventId(6), i, null, (n, _) => $"lost {n}");
            }

            await output.Discarded(3).WaitAsync(token);
            output.Failing = false;
            logger.Log(LogLevel.Information, new EventId(6), "after", null, (s, _) => s);
        }

        Assert.Equal(
            [
                "2026-11-27T01:02:03.456Z warn: FileXfer.Server.Logging[1] 3 log lines were dropped: the log output failed or fell behind",
                "2026-11-27T01:02:03.456Z info: FileXfer.Server[6] after",
            ],
            output.Lines);
    }

    [Fact(Timeout = 60000)]
    public async Task Log_calls_do_not_wait_for_a_stuck_output_and_what_they_drop_is_counted()
    {
        var token = TestContext.Current.CancellationToken;
        const int Count = 150_000;
        var output = new FailingWriter { Stuck = true };
        var provider = new LineLoggerProvider(output, new FakeTimeProvider());
        var logger = provider.CreateLogger("FileXfer.Server");

        // More lines than the queue holds, while the output takes none: every call returns.
        await Task.Run(() =>
        {
            for (int i = 0; i < Count; i++)
            {
                logger.Log(LogLevel.Information, new EventId(6), i, null, (n, _) => $"request {n}");
            }
        }, token).WaitAsync(TimeSpan.FromSeconds(30), token);
        output.Release();
        provider.Dispose();

        var lines = output.Lines;
        var report = Assert.Single(lines, l => l.Contains(" log lines were dropped", StringComparison.Ordinal));
        long dropped = long.Parse(report.Split("] ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(dropped, 1, Count - 1);
        Assert.Equal(Count - dropped, lines.Count - 1);
        Assert.EndsWith("request 0", lines[0], StringComparison.Ordinal);
    }

    /// <summary>
    /// A log output that can fail (each flush throws IOException and discards what was written since the last one)
    /// or be stuck (its writes wait until released).
    /// </summary>
    private sealed class FailingWriter : TextWriter
    {
        private readonly Lock _lock = new();
        private readonly List<string> _pending = [];
        private readonly List<string> _written = [];
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
        private int _discarded;

        public volatile bool Failing;

        public volatile bool Stuck;

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lock)
                {
                    return [.. _written];
                }
            }
        }

        public void Release() => _released.TrySetResult();

        /// <summary>Completes once <paramref name="count"/> lines were discarded by failed flushes.</summary>
        public Task Discarded(int count)
        {
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                _waiters.Add((count, reached));
                Notify();
            }

            return reached.Task;
        }

        public override async Task WriteLineAsync(string? value)
        {
            if (Stuck)
            {
                await _released.Task;
            }

            lock (_lock)
            {
                _pending.Add(value ?? string.Empty);
            }
        }

        public override Task FlushAsync()
        {
            lock (_lock)
            {
                if (Failing)
                {
                    // Report lines are not counted: the test waits for its own lines.
                    _discarded += _pending.Count(l => !l.Contains(" were dropped", StringComparison.Ordinal));
                    _pending.Clear();
                    Notify();
                    throw new IOException("Broken pipe");
                }

                _written.AddRange(_pending);
                _pending.Clear();
            }

            return Task.CompletedTask;
        }

        private void Notify()
        {
            foreach (var (count, reached) in _waiters.Where(w => _discarded >= w.Count))
            {
                reached.TrySetResult();
            }
        }
    }
}
