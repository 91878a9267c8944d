using FileXfer.Server.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Server.Tests.Logging;

/// <summary>The server's log lines: format, order, and nothing lost when the provider is disposed.</summary>
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
}
