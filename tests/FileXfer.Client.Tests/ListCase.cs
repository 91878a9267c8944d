namespace FileXfer.Client.Tests;

/// <summary>
/// A --files-from list as written (<see cref="Spelled"/>, with leading and trailing slashes and dots), the paths it
/// means (<see cref="Listed"/>), and paths to ask about.
/// </summary>
public sealed record ListCase(IReadOnlyList<string> Listed, IReadOnlyList<string> Spelled, IReadOnlyList<string> Queries)
{
    /// <summary>Listed, or below a listed path: a linear scan, the obvious way.</summary>
    public bool ExpectedCovers(string path) =>
        Listed.Any(listed => path == listed || path.StartsWith(listed + "/", StringComparison.Ordinal));

    /// <summary>Above a listed path.</summary>
    public bool ExpectedAncestor(string path) =>
        Listed.Any(listed => listed.StartsWith(path + "/", StringComparison.Ordinal));

    public override string ToString() => $"listed [{string.Join(", ", Spelled)}], asked [{string.Join(", ", Queries)}]";
}
