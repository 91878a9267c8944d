using System.Text.Json;
using FileXfer.Server.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Server.Tests.Logging;

/// <summary>
/// The log formats: journal lines carry syslog priorities (on every line of an exception's text too), JSON lines
/// are objects with the message's named values, and auto picks the journal only when systemd gave it stderr.
/// </summary>
public sealed partial class LogFormatTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 27, 1, 2, 3, 456, TimeSpan.Zero));

    [Theory]
    [InlineData(null, "Text")]
    [InlineData("", "Text")]
    [InlineData("8:12345", "Journal")]
    public void Auto_is_the_journal_only_under_systemd(string? journalStream, string expected)
    {
        Assert.Equal(Enum.Parse<LogFormat>(expected), LogLineFormatter.Resolve(LogFormat.Auto, journalStream));
        Assert.Equal(LogFormat.Json, LogLineFormatter.Resolve(LogFormat.Json, journalStream));
        Assert.Equal(LogFormat.Text, LogLineFormatter.Resolve(LogFormat.Text, "8:12345"));
    }

    [Theory]
    [InlineData(LogLevel.Trace, 7)]
    [InlineData(LogLevel.Debug, 7)]
    [InlineData(LogLevel.Information, 6)]
    [InlineData(LogLevel.Warning, 4)]
    [InlineData(LogLevel.Error, 3)]
    [InlineData(LogLevel.Critical, 2)]
    public void Journal_lines_start_with_the_syslog_priority_and_no_time(LogLevel level, int priority)
    {
        var lines = Lines(LogFormat.Journal, logger => logger.Log(level, new EventId(6), "request done", null, (s, _) => s));

        Assert.Equal([$"<{priority}>FileXfer.Server[6] request done"], lines);
    }

    [Fact]
    public void Every_line_of_an_error_s_exception_keeps_the_priority()
    {
        Exception failure;
        try
        {
            throw new InvalidOperationException("broken");
        }
        catch (InvalidOperationException ex)
        {
            failure = ex;
        }

        var lines = Lines(LogFormat.Journal, logger => logger.Log(LogLevel.Error, new EventId(9), "connection failed", failure, (s, _) => s));

        Assert.Equal("<3>FileXfer.Server[9] connection failed", lines[0]);
        Assert.Equal("<3>System.InvalidOperationException: broken", lines[1]);
        Assert.True(lines.Length > 2);
        Assert.All(lines, line => Assert.StartsWith("<3>", line, StringComparison.Ordinal));
    }

    [Fact]
    public void Json_lines_hold_time_level_event_message_and_the_named_values()
    {
        var lines = Lines(LogFormat.Json, logger => RequestCompleted(logger, 7, "docs/a \"b\".txt", 1234, 5.5));

        var line = Assert.Single(lines);
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("2026-11-27T01:02:03.456Z", root.GetProperty("time").GetString());
        Assert.Equal("information", root.GetProperty("level").GetString());
        Assert.Equal("FileXfer.Server", root.GetProperty("category").GetString());
        Assert.Equal(6, root.GetProperty("event_id").GetInt32());
        Assert.Equal("RequestCompleted", root.GetProperty("event").GetString());
        Assert.Equal("Request 7 docs/a \"b\".txt: ok, 1234 bytes in 5.5 ms", root.GetProperty("message").GetString());
        Assert.Equal(7, root.GetProperty("ConnectionId").GetInt64());
        Assert.Equal("docs/a \"b\".txt", root.GetProperty("Path").GetString());
        Assert.Equal(1234, root.GetProperty("Bytes").GetInt64());
        Assert.Equal(5.5, root.GetProperty("DurationMs").GetDouble());
        Assert.False(root.TryGetProperty("{OriginalFormat}", out _));
    }

    [Fact]
    public void Json_warnings_carry_the_exception_type_and_message()
    {
        var lines = Lines(LogFormat.Json, logger => logger.Log(LogLevel.Warning, new EventId(4), "connection failed", new IOException("reset"), (s, _) => s));

        using var json = JsonDocument.Parse(Assert.Single(lines));
        Assert.Equal("warning", json.RootElement.GetProperty("level").GetString());
        Assert.Equal("IOException: reset", json.RootElement.GetProperty("exception").GetString());
    }

    [LoggerMessage(6, LogLevel.Information, "Request {ConnectionId} {Path}: ok, {Bytes} bytes in {DurationMs:F1} ms")]
    private static partial void RequestCompleted(ILogger logger, long connectionId, string path, long bytes, double durationMs);

    private static string[] Lines(LogFormat format, Action<ILogger> log)
    {
        var output = new StringWriter { NewLine = "\n" };
        using (var provider = new LineLoggerProvider(output, Time, format))
        {
            log(provider.CreateLogger("FileXfer.Server"));
        }

        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
