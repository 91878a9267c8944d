using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FileXfer.Client.Cli;

/// <summary>Writes one JSON object per line to stdout: the <c>--json</c> output scripts read.</summary>
internal sealed class JsonLines(TextWriter output)
{
    private static readonly JsonWriterOptions Options = new()
    {
        // Names in any script stay readable; the output is still valid JSON.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public async Task WriteAsync(Action<Utf8JsonWriter> fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            fill(writer);
            writer.WriteEndObject();
        }

        await output.WriteLineAsync(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    public static void WriteNullableString(Utf8JsonWriter writer, string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    public static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
