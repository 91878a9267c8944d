namespace FileXfer.Client.Sync;

/// <summary>
/// What of a tree takes part in a transfer: <c>--include</c> and <c>--exclude</c> glob patterns (see
/// <see cref="GlobPattern"/> for their syntax) and an optional <c>--files-from</c> list. An entry, file or directory,
/// is left out when an exclude pattern matches it and no include pattern does, whatever order they were given in; a
/// pattern ending in <c>/</c> matches directories only, and a directory left out leaves out all it holds. With a list,
/// only listed paths and what is below them take part, and the directories above them are walked into for them.
/// </summary>
public sealed class PathFilter
{
    private readonly List<GlobPattern> _includes = [];
    private readonly List<GlobPattern> _excludes = [];
    private readonly ListedPaths? _listed;

    /// <exception cref="ArgumentException">A pattern is blank.</exception>
    /// <exception cref="FormatException">A pattern names an unknown <c>[:class:]</c>.</exception>
    public PathFilter(IEnumerable<string>? includes, IEnumerable<string>? excludes, ListedPaths? listed = null)
    {
        _includes.AddRange((includes ?? []).Select(GlobPattern.Compile));
        _excludes.AddRange((excludes ?? []).Select(GlobPattern.Compile));
        _listed = listed;
    }

    /// <summary>A filter that keeps everything.</summary>
    public static PathFilter All { get; } = new(null, null);

    /// <summary>True when the file at <paramref name="relativePath"/> takes part in the transfer.</summary>
    public bool IncludesFile(string relativePath) =>
        (_listed is null || _listed.Covers(relativePath)) && MatchesPatterns(relativePath, directory: false);

    /// <summary>True when the directory at <paramref name="relativePath"/> is walked.</summary>
    public bool IncludesDirectory(string relativePath) =>
        (_listed is null || _listed.Covers(relativePath) || _listed.IsAncestorOfListed(relativePath)) && MatchesPatterns(relativePath, directory: true);

    /// <summary>
    /// True when the directory at <paramref name="relativePath"/> takes part itself, not only as the way to listed
    /// paths below it: without a list every walked directory does; with one, a listed directory and those below it.
    /// Only such a directory may be deleted for being absent from the source: one that is walked only for the listed
    /// paths below it holds others that do not take part.
    /// </summary>
    public bool IncludesDirectoryItself(string relativePath) =>
        (_listed is null || _listed.Covers(relativePath)) && MatchesPatterns(relativePath, directory: true);

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
        if (_excludes.Count == 0)
        {
            // Nothing is left out: the common case costs no name and no search, once per entry of a tree.
            return true;
        }

        var name = relativePath[(relativePath.LastIndexOf('/') + 1)..];

        // Not rsync's first match wins: an include rescues what any exclude matches.
        return !Matches(_excludes, relativePath, name, directory) || Matches(_includes, relativePath, name, directory);
    }

    private static bool Matches(List<GlobPattern> rules, string relativePath, string name, bool directory)
    {
        foreach (var rule in rules)
        {
            if (rule.Matches(relativePath, name, directory))
            {
                return true;
            }
        }

        return false;
    }
}
