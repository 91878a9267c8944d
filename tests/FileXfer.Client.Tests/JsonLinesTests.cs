using System.Text.Json;
using FileXfer.Client.Cli;

namespace FileXfer.Client.Tests;

/// <summary>The JSON lines writer: names appear as they are, and the lines stay valid JSON.</summary>
public class JsonLinesTests
{
    [Theory]
    [InlineData("plain.txt")]
    [InlineData("c 🙂.txt")]
    [InlineData("👨‍👩‍👧 family/𠜎 rare CJK/🙂🙂")]
    [InlineData("中文 Кириллица 日本語")]
    [InlineData("back\\slash \"quoted\"")]
    [InlineData("back\\uD83D\\uDE42 not an escape")]
    [InlineData("\\\\uD83D")]
    [InlineData("tab\tnewline\n")]
    public async Task A_string_is_written_without_escaping_what_json_allows_and_reads_back_the_same(string value)
    {
        using var output = new StringWriter { NewLine = "\n" };

        await new JsonLines(output).WriteAsync(writer => writer.WriteString("name", value));

        var line = output.ToString();
        using var document = JsonDocument.Parse(line);
        Assert.Equal(value, document.RootElement.GetProperty("name").GetString());
        foreach (var rune in value.EnumerateRunes().Where(r => r.Value > 0xFFFF))
        {
            Assert.Contains(rune.ToString(), line, StringComparison.Ordinal);
        }

        if (!value.Contains('\\', StringComparison.Ordinal))
        {
            Assert.DoesNotContain("\\u", line, StringComparison.Ordinal);
        }
    }
}
