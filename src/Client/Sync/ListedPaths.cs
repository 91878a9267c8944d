namespace FileXfer.Client.Sync;

/// <summary>
/// The paths of a <c>--files-from</c> list, relative to the tree's top: a listed file takes part, a listed directory
/// takes part with everything below it, and the directories above a listed path are walked into for it. Held as one
/// sorted array searched by halves, so memory grows with the list, not with the tree.
/// </summary>
public sealed class ListedPaths
{
    // Ordinal order keeps every path below "a/b" together, right after "a/b/".
    private readonly string[] _paths;

    // "." (or "/") listed: the whole tree takes part.
    private readonly bool _everything;

    /// <summary>
    /// Takes the paths as rsync's <c>--files-from</c> does: <c>/</c>-separated, a leading <c>/</c> or <c>./</c>
    /// stripped, as are a trailing <c>/</c>, empty and <c>.</c> components.
    /// </summary>
    /// <exception cref="FormatException">A path has a <c>..</c> component or a name a remote path cannot hold.</exception>
    public ListedPaths(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var normalized = new List<string>();
        foreach (var path in paths)
        {
            var relative = Normalize(path);
            if (relative.Length == 0)
            {
                _everything = true;
            }
            else
            {
                normalized.Add(relative);
            }
        }

        normalized.Sort(StringComparer.Ordinal);
        _paths = [.. normalized.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>True when <paramref name="relativePath"/> is listed, or is below a listed directory.</summary>
    public bool Covers(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        if (_everything || IsListed(relativePath))
        {
            return true;
        }

        for (int slash = relativePath.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = relativePath.IndexOf('/', slash + 1))
        {
            if (IsListed(relativePath.AsSpan(0, slash)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when a listed path lies below the directory at <paramref name="relativePath"/> (the top is <c>""</c>).</summary>
    public bool IsAncestorOfListed(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        if (relativePath.Length == 0)
        {
            return _everything || _paths.Length > 0;
        }

        var prefix = relativePath + "/";
        int first = LowerBound(prefix);
        return first < _paths.Length && _paths[first].StartsWith(prefix, StringComparison.Ordinal);
    }

    private bool IsListed(ReadOnlySpan<char> relativePath)
    {
        int index = LowerBound(relativePath);
        return index < _paths.Length && relativePath.SequenceEqual(_paths[index]);
    }

    /// <summary>The index of the first path not ordered before <paramref name="key"/>.</summary>
    private int LowerBound(ReadOnlySpan<char> key)
    {
        int low = 0;
        int high = _paths.Length;
        while (low < high)
        {
            int middle = low + ((high - low) / 2);
            if (_paths[middle].AsSpan().SequenceCompareTo(key) < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private static string Normalize(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var names = new List<string>();
        foreach (var name in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (name == ".")
            {
                continue;
            }

            if (!RemotePath.IsValidName(name, out var error))
            {
                throw new FormatException($"'{RemotePath.Escape(path)}': {error}");
            }

            names.Add(name);
        }

        return string.Join('/', names);
    }
}
