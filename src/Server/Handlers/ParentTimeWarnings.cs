namespace FileXfer.Server.Handlers;

/// <summary>
/// The directories whose parent time (ParentMTime) the server could not set and already logged, for all its
/// connections: each is logged once, so a tree of many files put into one directory the server does not own makes one
/// line, not one per file (every request is still told, in its Ok). A directory is known by its path from the server's
/// root, the session's subtree (a token's <c>rw:/sub/tree</c>) and the directory below it, so the same relative path in
/// two tokens' subtrees is two directories, and the same directory named from two subtrees that overlap is one.
/// Bounded: past <see cref="Capacity"/> directories it forgets them all and starts again, so a directory may then be
/// logged once more; each is one path of at most the protocol's length below a subtree the operator wrote.
/// </summary>
internal sealed class ParentTimeWarnings
{
    /// <summary>How many directories are remembered at most.</summary>
    public const int Capacity = 4096;

    private readonly HashSet<string> _logged = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>
    /// True the first time the directory <paramref name="directory"/> of a session rooted at <paramref name="subtree"/>
    /// (both normalized remote paths, empty for the root) is named: log it then.
    /// </summary>
    public bool FirstFor(string subtree, string directory)
    {
        var key = subtree.Length == 0 ? directory
            : directory.Length == 0 ? subtree
            : RemotePath.Combine(subtree, directory);
        lock (_lock)
        {
            if (_logged.Count >= Capacity && !_logged.Contains(key))
            {
                _logged.Clear();
            }

            return _logged.Add(key);
        }
    }
}
