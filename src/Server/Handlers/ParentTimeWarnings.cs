namespace FileXfer.Server.Handlers;

/// <summary>
/// The directories whose parent time (ParentMTime) the server could not set and already logged, for all its
/// connections: each is logged once, so a tree of many files put into one directory the server does not own makes one
/// line, not one per file (every request is still told, in its Ok). Bounded: past <see cref="Capacity"/> directories it
/// forgets them all and starts again, so a directory may then be logged once more.
/// </summary>
internal sealed class ParentTimeWarnings
{
    /// <summary>How many directories are remembered at most.</summary>
    public const int Capacity = 4096;

    private readonly HashSet<string> _logged = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>True the first time <paramref name="directory"/> (a normalized remote path) is named: log it then.</summary>
    public bool FirstFor(string directory)
    {
        lock (_lock)
        {
            if (_logged.Count >= Capacity && !_logged.Contains(directory))
            {
                _logged.Clear();
            }

            return _logged.Add(directory);
        }
    }
}
