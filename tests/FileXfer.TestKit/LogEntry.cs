using Microsoft.Extensions.Logging;

namespace FileXfer.TestKit;

/// <summary>One message recorded by <see cref="RecordingLogger"/>.</summary>
public sealed record LogEntry(LogLevel Level, EventId EventId, string Message, Exception? Exception);
