namespace FileXfer.Server.Logging;

/// <summary>How the server writes its log lines (<c>--log-format</c>).</summary>
internal enum LogFormat
{
    /// <summary><c>journal</c> when stderr goes to systemd's journal (<c>$JOURNAL_STREAM</c> is set), else <c>text</c>.</summary>
    Auto,

    /// <summary><c>2026-11-27T00:23:43.692Z info: FileXfer.Server[1] Listening on 127.0.0.1:7070</c>.</summary>
    Text,

    /// <summary>
    /// For systemd's journal: each line starts with its syslog priority (<c>&lt;6&gt;</c> for information, sd-daemon(3)),
    /// without a time (the journal records its own).
    /// </summary>
    Journal,

    /// <summary>One JSON object per line, for log shippers: time, level, category, event id and name, message, the
    /// message's named values, and the exception.</summary>
    Json,
}
