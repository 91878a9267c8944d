using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Paths;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Client.Sync;

/// <summary>
/// Walks a local directory tree: parents before children, names sorted. Symbolic links to files are followed;
/// symbolic links to directories are not descended into (no loops). Names that cannot be stored remotely and
/// directories that cannot be read are reported as problems rather than ending the walk.
/// </summary>
public static class LocalTree
{
    /// <summary>Scans the tree below <paramref name="root"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The root does not exist.</exception>
    /// <exception cref="UnauthorizedAccessException">The root cannot be read.</exception>
    public static (IReadOnlyList<LocalEntry> Entries, IReadOnlyList<(string Path, string Problem)> Problems) Scan(string root, PathFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var top = new DirectoryInfo(root);
        if (!top.Exists)
        {
            throw new DirectoryNotFoundException($"'{root}' is not a directory");
        }

        var entries = new List<LocalEntry>();
        var problems = new List<(string, string)>();

        // Reading the top itself must work: an unreadable source is an error, not an empty tree.
        var first = top.EnumerateFileSystemInfos().OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
        var pending = new Stack<(string Relative, IEnumerator<FileSystemInfo> Children)>();
        pending.Push((string.Empty, first.GetEnumerator()));
        while (pending.Count > 0)
        {
            var (relative, children) = pending.Peek();
            if (!children.MoveNext())
            {
                children.Dispose();
                pending.Pop();
                continue;
            }

            var info = children.Current;
            var path = RemotePath.Combine(relative, info.Name);
            if (IsUndecodable(info))
            {
                problems.Add((path, "name is not valid UTF-8; skipped"));
                continue;
            }

            if (!RemotePath.IsValidName(info.Name, out var nameError))
            {
                problems.Add((path, $"name cannot be stored remotely: {nameError}"));
                continue;
            }

            if (info is DirectoryInfo directory)
            {
                if (!filter.IncludesDirectory(path))
                {
                    continue;
                }

                if (directory.LinkTarget is not null)
                {
                    problems.Add((path, "symbolic link to a directory: not followed"));
                    continue;
                }

                entries.Add(new LocalEntry(path, directory.FullName, EntryKind.Directory, 0, Modified(directory), Mode(directory)));
                List<FileSystemInfo> grandchildren;
                try
                {
                    grandchildren = [.. directory.EnumerateFileSystemInfos().OrderBy(i => i.Name, StringComparer.Ordinal)];
                }
                catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
                {
                    problems.Add((path, $"cannot read directory: {ex.Message}"));
                    continue;
                }

                pending.Push((path, grandchildren.GetEnumerator()));
            }
            else if (info is FileInfo file && filter.IncludesFile(path))
            {
                if (OperatingSystem.IsLinux())
                {
                    // One stat, following a link: the same answers as below without a readlink and a second look.
                    if (!Posix.TryStat(file.FullName, followLinks: true, out var status, out _))
                    {
                        problems.Add((path, "dangling symbolic link"));
                    }
                    else if (!status.IsRegularFile)
                    {
                        problems.Add((path, "not a regular file (a pipe, socket or device): skipped"));
                    }
                    else
                    {
                        entries.Add(new LocalEntry(path, file.FullName, EntryKind.File, status.Size, status.ModifiedUtc, status.PermissionBits));
                    }

                    continue;
                }

                var target = file.LinkTarget is null ? file : file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo;
                if (target is null || !target.Exists)
                {
                    problems.Add((path, "dangling symbolic link"));
                    continue;
                }

                if (!FileTypes.IsRegularFile(file.FullName))
                {
                    problems.Add((path, "not a regular file (a pipe, socket or device): skipped"));
                    continue;
                }

                entries.Add(new LocalEntry(path, file.FullName, EntryKind.File, target.Length, Modified(target), Mode(target)));
            }
        }

        return (entries, problems);
    }

    /// <summary>
    /// True for a name whose bytes are not UTF-8: .NET decodes them with U+FFFD, so the decoded path names nothing
    /// (it would be reported as a dangling link, and stored remotely under a name the file does not have). A real
    /// U+FFFD in a name still exists under its decoded path.
    /// </summary>
    private static bool IsUndecodable(FileSystemInfo info)
    {
        if (!info.Name.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            // lstat: a dangling symbolic link with a real U+FFFD in its name still has attributes.
            _ = File.GetAttributes(info.FullName);
            return false;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not a missing name: left to the checks below, which report it as before.
            return false;
        }
    }

    private static DateTimeOffset Modified(FileSystemInfo info) => new(info.LastWriteTimeUtc, TimeSpan.Zero);

    private static int? Mode(FileSystemInfo info) => OperatingSystem.IsWindows() ? null : (int)info.UnixFileMode;
}
