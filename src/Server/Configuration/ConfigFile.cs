namespace FileXfer.Server.Configuration;

/// <summary>
/// Reads the server's configuration file: one <c>key = value</c> a line, keys being the long options without their
/// dashes (<c>max-connections = 200</c>); blank lines and lines starting with <c>#</c> are skipped, and a value may be
/// put in double quotes (to keep a <c>#</c> or spaces at its ends). A key twice is a mistake, as is a line without
/// <c>=</c>; each is one problem line naming the file and line.
/// </summary>
internal static class ConfigFile
{
    /// <summary>The entries of <paramref name="text"/> and the problems found; <paramref name="path"/> names the file.</summary>
    public static (IReadOnlyList<ConfigEntry> Entries, IReadOnlyList<string> Problems) Parse(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = new List<ConfigEntry>();
        var problems = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r').Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var source = $"{path} line {i + 1}";
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                problems.Add($"{source}: expected 'key = value', not '{line}'");
                continue;
            }

            var key = line[..equals].Trim().ToLowerInvariant();
            var value = line[(equals + 1)..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1];
            }

            if (seen.TryGetValue(key, out int first))
            {
                problems.Add($"{source}: '{key}' is already set on line {first}");
                continue;
            }

            seen[key] = i + 1;
            entries.Add(new ConfigEntry(key, value, source, directory));
        }

        return (entries, problems);
    }
}
