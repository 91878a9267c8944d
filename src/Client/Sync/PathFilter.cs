namespace FileXfer.Client.Sync;

/// <summary>
/// What of a tree takes part in a transfer: <c>--include</c> and <c>--exclude</c> glob patterns (see
/// <see cref="GlobPattern"/> for their syntax). An entry, file or directory, is left out when an exclude pattern
/// matches it and no include pattern does, whatever order they were given in; a pattern ending in <c>/</c> matches
/// directories only, and a directory left out leaves out all it holds.
/// </summary>
public sealed class PathFilter
{
    private readonly List<GlobPattern> _includes = [];
    private readonly List<GlobPattern> _excludes = [];

    /// <exception cref="ArgumentException">A pattern is blank.</exception>
    /// <exception cref="FormatException">A pattern names an unknown <c>[:class:]</c>.</exception>
    public PathFilter(IEnumerable<string>? includes, IEnumerable<string>? excludes)
    {
        _includes.AddRange((includes ?? []).Select(GlobPattern.Compile));
        _excludes.AddRange((excludes ?? []).Select(GlobPattern.Compile));
    }

    /// <summary>A filter that keeps everything.</summary>
    public static PathFilter All { get; } = new(null, null);

    /// <summary>True when the file at <paramref name="relativePath"/> takes part in the transfer.</summary>
    public bool IncludesFile(string relativePath) => MatchesPatterns(relativePath, directory: false);

    /// <summary>True when the directory at <paramref name="relativePath"/> is walked.</summary>
    public bool IncludesDirectory(string relativePath) => MatchesPatterns(relativePath, directory: true);

    /// <summary>
    /// True when a directory above <paramref name="relativePath"/> is left out, which leaves out everything in it.
    /// A local walk never enters such a directory; entries the server lists must be checked with this.
    /// </summary>
    public bool IsBelowExcludedDirectory(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        for (int slash = relativePath.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = relativePath.IndexOf('/', slash + 1))
        {
            if (!IncludesDirectory(relativePath[..slash]))
            {
                return true;
            }
        }

        return false;
    }

    private bool MatchesPatterns(string relativePath, bool directory)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        var name = relativePath[(relativePath.LastIndexOf('/') + 1)..];

        // Not rsync's first match wins: an include rescues what any exclude matches.
        return !_excludes.Any(rule => rule.Matches(relativePath, name, directory))
            || _includes.Any(rule => rule.Matches(relativePath, name, directory));
    }
}
