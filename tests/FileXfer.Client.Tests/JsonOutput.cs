using System.Text.Json;
using System.Text.RegularExpressions;

namespace FileXfer.Client.Tests;

/// <summary>Reads the <c>--json</c> lines a command printed, and makes them stable enough to snapshot.</summary>
public static partial class JsonOutput
{
    /// <summary>Every stdout line parsed as one JSON object (a line that is not one fails the test).</summary>
    public static IReadOnlyList<JsonElement> Parse(CliResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var objects = new List<JsonElement>();
        foreach (var line in result.StdoutLines)
        {
            using var document = JsonDocument.Parse(line);
            Assert.True(document.RootElement.ValueKind == JsonValueKind.Object, $"not a JSON object: {line}\n{result}");
            objects.Add(document.RootElement.Clone());
        }

        return objects;
    }

    /// <summary>The per-item objects: every object but the summary.</summary>
    public static IReadOnlyList<JsonElement> Items(CliResult result) =>
        [.. Parse(result).Where(o => o.GetProperty("op").GetString() != "summary")];

    /// <summary>The summary: the one object with <c>"op":"summary"</c>, which is the last line.</summary>
    public static JsonElement Summary(CliResult result)
    {
        var objects = Parse(result);
        Assert.True(objects.Count > 0, $"no JSON output\n{result}");
        Assert.Equal("summary", objects[^1].GetProperty("op").GetString());
        Assert.Single(objects, o => o.GetProperty("op").GetString() == "summary");
        return objects[^1];
    }

    /// <summary>A string property, or null when it is JSON null.</summary>
    public static string? Text(JsonElement item, string name) => item.GetProperty(name).GetString();

    /// <summary>
    /// The output with what changes from run to run made fixed: <paramref name="localRoot"/> becomes
    /// <c>&lt;local&gt;</c> and every <c>seconds</c> value becomes 0.
    /// </summary>
    public static string Normalize(string stdout, string localRoot)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        return Seconds().Replace(stdout.Replace(localRoot, "<local>", StringComparison.Ordinal), "\"seconds\":0");
    }

    [GeneratedRegex("\"seconds\":[0-9.eE+-]+")]
    private static partial Regex Seconds();
}
