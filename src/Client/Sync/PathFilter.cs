using System.Text;
using System.Text.RegularExpressions;

namespace FileXfer.Client.Sync;

/// <summary>
/// <c>--include</c> and <c>--exclude</c> glob patterns for tree transfers. A pattern with a <c>/</c> matches the
/// path relative to the tree's top, one without matches the name alone. <c>*</c> matches within a name,
/// <c>**</c> across names, <c>?</c> one character. A file is left out when an exclude pattern matches it and no
/// include pattern does; a directory is left out, with everything in it, when an exclude pattern ending in
/// <c>/</c> matches it and no include pattern does.
/// </summary>
public sealed class PathFilter
{
    private readonly List<(Regex Pattern, bool NameOnly, bool DirectoryOnly)> _includes = [];
    private readonly List<(Regex Pattern, bool NameOnly, bool DirectoryOnly)> _excludes = [];

    public PathFilter(IEnumerable<string>? includes, IEnumerable<string>? excludes)
    {
        foreach (var pattern in includes ?? [])
        {
            _includes.Add(Compile(pattern));
        }

        foreach (var pattern in excludes ?? [])
        {
            _excludes.Add(Compile(pattern));
        }
    }

    /// <summary>A filter that keeps everything.</summary>
    public static PathFilter All { get; } = new(null, null);

    /// <summary>True when the file at <paramref name="relativePath"/> takes part in the transfer.</summary>
    public bool IncludesFile(string relativePath) => Includes(relativePath, directory: false);

    /// <summary>True when the directory at <paramref name="relativePath"/> is walked.</summary>
    public bool IncludesDirectory(string relativePath) => Includes(relativePath, directory: true);

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

    private bool Includes(string relativePath, bool directory)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        var name = relativePath[(relativePath.LastIndexOf('/') + 1)..];
        bool IsMatch((Regex Pattern, bool NameOnly, bool DirectoryOnly) rule) => rule.Pattern.IsMatch(rule.NameOnly ? name : relativePath);

        // Excludes ending in '/' are for directories, the others for files; an include rescues either.
        bool excluded = _excludes.Any(rule => rule.DirectoryOnly == directory && IsMatch(rule));
        return !excluded || _includes.Any(rule => (directory || !rule.DirectoryOnly) && IsMatch(rule));
    }

    private static (Regex, bool, bool) Compile(string pattern)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        bool directoryOnly = pattern.EndsWith('/');

        // Any '/' but a trailing one makes a path pattern, a leading one too: "/build/" is the top's build only.
        var body = pattern.TrimEnd('/');
        bool nameOnly = !body.Contains('/', StringComparison.Ordinal);
        body = body.TrimStart('/');
        var regex = new StringBuilder("^");
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c == '*' && i + 1 < body.Length && body[i + 1] == '*')
            {
                // "**/" also matches no directory at all.
                if (i + 2 < body.Length && body[i + 2] == '/')
                {
                    regex.Append("(?:.*/)?");
                    i += 2;
                }
                else
                {
                    regex.Append(".*");
                    i++;
                }
            }
            else
            {
                regex.Append(c switch
                {
                    '*' => "[^/]*",
                    // One character as people count them: a surrogate pair (an emoji) is one.
                    '?' => @"(?:[\uD800-\uDBFF][\uDC00-\uDFFF]|[^/])",
                    _ => Regex.Escape(c.ToString()),
                });
            }
        }

        regex.Append('$');
        return (new Regex(regex.ToString(), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking), nameOnly, directoryOnly);
    }
}
