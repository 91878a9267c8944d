using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Logging;

/// <summary>
/// Writes log lines to a text stream (stderr) from one background task, in batches: a request costs its line's
/// formatting, not a write system call. The console logger of Microsoft.Extensions.Logging writes and flushes
/// every line, which for thousands of small files a second took a tenth of the server's time.
/// </summary>
/// <remarks>
/// Line format: <c>2026-11-27T00:23:43.692Z info: FileXfer.Server[1] Listening on 127.0.0.1:7070</c>. Warnings carry
/// the exception's type and message; errors and worse its whole text, on the following lines.
/// </remarks>
internal sealed class LineLoggerProvider : ILoggerProvider
{
    private readonly Channel<string> _lines = Channel.CreateBounded<string>(new BoundedChannelOptions(100_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly TextWriter _output;
    private readonly TimeProvider _time;
    private readonly Task _writing;

    public LineLoggerProvider(TextWriter output, TimeProvider? time = null)
    {
        _output = output ?? throw new ArgumentNullException(nameof(output));
        _time = time ?? TimeProvider.System;
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
            // The queue is full (the output is slower than the requests): wait rather than lose the line.
            _lines.Writer.WriteAsync(line).AsTask().GetAwaiter().GetResult();
        }
    }

    private async Task WriteLinesAsync()
    {
        var reader = _lines.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var line))
            {
                await _output.WriteLineAsync(line);
            }

            // Everything queued so far is written: one flush for the whole batch.
            await _output.FlushAsync();
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };

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

            var line = new StringBuilder(160)
                .Append(provider._time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture))
                .Append(' ').Append(LevelName(logLevel)).Append(": ")
                .Append(category).Append('[').Append(eventId.Id).Append("] ")
                .Append(formatter(state, exception));
            if (exception is not null)
            {
                line.Append(logLevel >= LogLevel.Error ? Environment.NewLine + exception : $" ({exception.GetType().Name}: {exception.Message})");
            }

            provider.Enqueue(line.ToString());
        }
    }
}
