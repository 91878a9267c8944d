namespace FileXfer.Server.Storage.Local;

/// <summary>
/// Where a symbolic link that leads nowhere would lead, so confinement can tell a dangling link inside the root from a
/// link out of it (<see cref="StoreRoot"/>) without following either: the link's resolution retraced as the kernel does
/// it, one component at a time from <c>/</c>, each link on the way replaced by its target, up to the first name that
/// does not exist. Nothing is opened or made; only <c>lstat</c> and <c>readlink</c>.
/// </summary>
internal static class DanglingLinks
{
    // The kernel's own bound on the links followed in one resolution (MAXSYMLINKS).
    private const int MaxLinks = 40;

    /// <summary>
    /// The absolute path of the first missing name that resolving <paramref name="link"/> (an absolute path) reaches,
    /// below its parents' real paths; null when the resolution ends anywhere else: at something that exists, in a loop,
    /// at a file used as a directory or at a name that cannot be examined. Null where links are not examined this way (not Linux).
    /// </summary>
    public static string? MissingTarget(string link)
    {
        if (!OperatingSystem.IsLinux() || !Path.IsPathRooted(link))
        {
            return null;
        }

        // The components still to resolve, the next on top; everything in resolved is real (no link, no ..).
        var pending = new Stack<string>();
        Push(pending, link);
        var resolved = "/";
        int links = 0;
        while (pending.TryPop(out var part))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                resolved = Path.GetDirectoryName(resolved) ?? "/";
                continue;
            }

            var next = Path.Join(resolved, part);
            if (!Posix.TryStat(next, followLinks: false, out FileStatus status, out int errno))
            {
                return errno == Posix.NoSuchFile ? next : null;
            }

            if (status.IsSymbolicLink)
            {
                if (++links > MaxLinks || new FileInfo(next).LinkTarget is not { } target)
                {
                    return null;
                }

                if (Path.IsPathRooted(target))
                {
                    resolved = "/";
                }

                Push(pending, target);
                continue;
            }

            if (!status.IsDirectory && pending.Count > 0)
            {
                // A file with more to resolve below it: ENOTDIR, not a missing name (a trailing slash counts, as for the kernel).
                return null;
            }

            resolved = next;
        }

        return null;
    }

    private static void Push(Stack<string> pending, string path)
    {
        var parts = path.Split('/');
        for (int i = parts.Length - 1; i >= 0; i--)
        {
            pending.Push(parts[i]);
        }
    }
}
