using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Logging;

/// <summary>
/// Writes log lines to a text stream (stderr) from one background task, in batches: a request costs its line's
/// formatting, not a write system call. The console logger of Microsoft.Extensions.Logging writes and flushes
/// every line, which for thousands of small files a second took a tenth of the server's time.
/// </summary>
/// <remarks>
/// <para>
/// Line format (<see cref="LogFormat"/>): <c>2026-11-27T00:23:43.692Z info: FileXfer.Server[1] Listening on 127.0.0.1:7070</c>,
/// the journal's <c>&lt;6&gt;FileXfer.Server[1] Listening on …</c>, or one JSON object. Warnings carry the exception's
/// type and message; errors and worse its whole text, on the following lines (in JSON, in its "exception" field).
/// </para>
/// <para>
/// Logging never holds up serving: a log call only queues its line, and a full queue (an output slower than the
/// requests, or stuck) drops the line instead of waiting. A failed write (a closed pipe, a full disk) drops its batch
/// and the writer goes on. Dropped lines are counted, and the next write that works starts with a line saying how many.
/// </para>
/// </remarks>
internal sealed class LineLoggerProvider : ILoggerProvider
{
    private const int Capacity = 100_000;
    private const int MaxBatch = 1024;
    private const string Category = "FileXfer.Server.Logging";

    private readonly Channel<string> _lines = Channel.CreateBounded<string>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly TextWriter _output;
    private readonly LogLineFormatter _formatter;
    private readonly Task _writing;
    private long _dropped;

    public LineLoggerProvider(TextWriter output, TimeProvider? time = null, LogFormat format = LogFormat.Text)
    {
        _output = output ?? throw new ArgumentNullException(nameof(output));
        _formatter = new LogLineFormatter(format == LogFormat.Auto ? LogFormat.Text : format, time ?? TimeProvider.System);
        _writing = Task.Run(WriteLinesAsync);
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new LineLogger(this, categoryName);

    /// <summary>Writes what is queued and stops, waiting at most a few seconds for a stuck output.</summary>
    public void Dispose()
    {
        _lines.Writer.TryComplete();
        _writing.Wait(TimeSpan.FromSeconds(5));
    }

    private void Enqueue(string line)
    {
        if (!_lines.Writer.TryWrite(line))
        {
            // The queue is full: the line is dropped rather than the caller (a request) kept waiting.
            Interlocked.Increment(ref _dropped);
        }
    }

    private async Task WriteLinesAsync()
    {
        var reader = _lines.Reader;
        var batch = new List<string>(MaxBatch);
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var line))
            {
                batch.Add(line);
            }

            await TryWriteAsync(batch);
            batch.Clear();
        }

        // Lines dropped at the end are still told, if the output works by now.
        await TryWriteAsync(batch);
    }

    /// <summary>Writes the lines, after a line counting those dropped since the last report; one flush for all.</summary>
    private async Task TryWriteAsync(List<string> batch)
    {
        long dropped = Interlocked.Exchange(ref _dropped, 0);
        if (dropped == 0 && batch.Count == 0)
        {
            return;
        }

        try
        {
            if (dropped > 0)
            {
                var message = $"{dropped} log lines were dropped: the log output failed or fell behind";
                await _output.WriteLineAsync(_formatter.FormatLine(LogLevel.Warning, Category, new EventId(1), message, message, exception: null));
            }

            foreach (var line in batch)
            {
                await _output.WriteLineAsync(line);
            }

            await _output.FlushAsync();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or NotSupportedException or UnauthorizedAccessException)
        {
            // The output failed (a closed pipe, a full disk, a hung-up terminal): these lines are lost, and counted
            // for the next write that works. What part of them reached the output is not known; none is counted.
            Interlocked.Add(ref _dropped, dropped + batch.Count);
        }
    }

    private sealed class LineLogger(LineLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            provider.Enqueue(provider._formatter.FormatLine(logLevel, category, eventId, state, formatter(state, exception), exception));
        }
    }
}
