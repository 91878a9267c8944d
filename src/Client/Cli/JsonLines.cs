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

        await output.WriteLineAsync(UnescapeSurrogatePairs(Encoding.UTF8.GetString(buffer.WrittenSpan)));
    }

    /// <summary>
    /// Puts back the characters outside the Basic Multilingual Plane (emoji, rarer CJK) that every built-in encoder
    /// escapes as a pair of <c>\uD8xx\uDCxx</c> escapes, so that names appear as they are, as documented, also to
    /// scripts that grep the lines. Every other escape is kept.
    /// </summary>
    internal static string UnescapeSurrogatePairs(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (!json.Contains("\\uD", StringComparison.Ordinal))
        {
            return json;
        }

        var builder = new StringBuilder(json.Length);
        for (int i = 0; i < json.Length; i++)
        {
            if (json[i] != '\\')
            {
                builder.Append(json[i]);
            }
            else if (TryReadEscapedChar(json, i, out char high) && char.IsHighSurrogate(high)
                && TryReadEscapedChar(json, i + 6, out char low) && char.IsLowSurrogate(low))
            {
                builder.Append(high).Append(low);
                i += 11;
            }
            else
            {
                // A backslash in JSON text always starts an escape: keep it whole, so an escaped backslash
                // followed by "uD83D" stays as it is.
                builder.Append(json, i, 2);
                i++;
            }
        }

        return builder.ToString();
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

    private static bool TryReadEscapedChar(string json, int index, out char value)
    {
        value = default;
        if (index + 6 > json.Length || json[index] != '\\' || json[index + 1] != 'u'
            || !ushort.TryParse(json.AsSpan(index + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ushort code))
        {
            return false;
        }

        value = (char)code;
        return true;
    }

    public static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
