using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Tests;

/// <summary>One message recorded by <see cref="CapturingLogger"/>.</summary>
public sealed record LogEntry(LogLevel Level, EventId EventId, string Message, Exception? Exception);
