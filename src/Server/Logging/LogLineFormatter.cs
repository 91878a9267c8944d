using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Logging;

/// <summary>Turns one log call into its line, in one of the <see cref="LogFormat"/>s.</summary>
internal sealed class LogLineFormatter(LogFormat format, TimeProvider time)
{
    /// <summary>The environment variable systemd sets when it connects stderr to the journal.</summary>
    public const string JournalStreamVariable = "JOURNAL_STREAM";

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public LogFormat Format { get; } = format;

    /// <summary>
    /// <see cref="LogFormat.Auto"/> made definite: the journal's format when systemd connected stderr to it (the
    /// variable is inherited by children whose stderr may be elsewhere, but the server starts none).
    /// </summary>
    public static LogFormat Resolve(LogFormat format, string? journalStream) =>
        format != LogFormat.Auto ? format : string.IsNullOrEmpty(journalStream) ? LogFormat.Text : LogFormat.Journal;

    public string FormatLine<TState>(LogLevel level, string category, EventId eventId, TState state, string message, Exception? exception) => Format switch
    {
        LogFormat.Json => Json(level, category, eventId, state, message, exception),
        LogFormat.Journal => Journal(level, category, eventId, message, exception),
        _ => Text(level, category, eventId, message, exception),
    };

    private string Text(LogLevel level, string category, EventId eventId, string message, Exception? exception)
    {
        var line = new StringBuilder(160)
            .Append(time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
            .Append(' ').Append(LevelName(level)).Append(": ")
            .Append(category).Append('[').Append(eventId.Id).Append("] ")
            .Append(message);
        AppendException(line, level, exception, linePrefix: string.Empty);
        return line.ToString();
    }

    private static string Journal(LogLevel level, string category, EventId eventId, string message, Exception? exception)
    {
        // The journal reads a priority prefix per line, so each line of an exception's text carries it too.
        var prefix = $"<{SyslogPriority(level)}>";
        var line = new StringBuilder(160)
            .Append(prefix)
            .Append(category).Append('[').Append(eventId.Id).Append("] ")
            .Append(message);
        AppendException(line, level, exception, prefix);
        return line.ToString();
    }

    private string Json<TState>(LogLevel level, string category, EventId eventId, TState state, string message, Exception? exception)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString("time", time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("level", LevelWord(level));
            json.WriteString("category", category);
            json.WriteNumber("event_id", eventId.Id);
            if (eventId.Name is { } name)
            {
                json.WriteString("event", name);
            }

            json.WriteString("message", message);
            if (state is IReadOnlyList<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    // "{OriginalFormat}" is the template itself; the message already says it.
                    if (key.StartsWith('{'))
                    {
                        continue;
                    }

                    switch (value)
                    {
                        case null:
                            json.WriteNull(key);
                            break;
                        case int or long or uint or ulong or short or ushort or byte:
                            json.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                            break;
                        case double or float or decimal:
                            json.WriteNumber(key, Convert.ToDouble(value, CultureInfo.InvariantCulture));
                            break;
                        case bool flag:
                            json.WriteBoolean(key, flag);
                            break;
                        default:
                            json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                            break;
                    }
                }
            }

            if (exception is not null)
            {
                json.WriteString("exception", level >= LogLevel.Error ? exception.ToString() : $"{exception.GetType().Name}: {exception.Message}");
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void AppendException(StringBuilder line, LogLevel level, Exception? exception, string linePrefix)
    {
        if (exception is null)
        {
            return;
        }

        if (level < LogLevel.Error)
        {
            line.Append($" ({exception.GetType().Name}: {exception.Message})");
            return;
        }

        foreach (var text in exception.ToString().Split('\n'))
        {
            line.Append(Environment.NewLine).Append(linePrefix).Append(text.TrimEnd('\r'));
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

    private static string LevelWord(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "information",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        _ => "critical",
    };

    /// <summary>syslog(3)'s priorities, which the journal takes: 2 crit, 3 err, 4 warning, 6 info, 7 debug.</summary>
    private static int SyslogPriority(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => 7,
        LogLevel.Information => 6,
        LogLevel.Warning => 4,
        LogLevel.Error => 3,
        _ => 2,
    };
}
