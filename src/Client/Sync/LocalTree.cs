using System.IO.Enumeration;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Paths;
using FileXfer.Protocol.Transfer;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client.Sync;

/// <summary>
/// Walks a local directory tree: parents before children, names sorted. Symbolic links to files are followed;
/// symbolic links to directories are not descended into (no loops). Names that cannot be stored remotely and
/// directories that cannot be read are reported as problems rather than ending the walk.
/// </summary>
public static class LocalTree
{
    // Every entry, hidden ones too, and a directory that cannot be read is an error, as DirectoryInfo's own listing does.
    private static readonly EnumerationOptions ListingOptions = new() { AttributesToSkip = 0, IgnoreInaccessible = false };

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
        var pending = new Stack<(string Relative, Listing Children)>();
        pending.Push((string.Empty, Listing.Read(top.FullName)));
        while (pending.Count > 0)
        {
            var (relative, children) = pending.Peek();
            if (!children.MoveNext())
            {
                children.Dispose();
                pending.Pop();
                continue;
            }

            var child = children.Current;
            var path = RemotePath.Combine(relative, child.Name);
            if (IsUndecodable(child.Name, child.FullPath))
            {
                problems.Add((path, "name is not valid UTF-8; skipped"));
                continue;
            }

            if (!RemotePath.IsValidName(child.Name, out var nameError))
            {
                problems.Add((path, $"name cannot be stored remotely: {nameError}"));
                continue;
            }

            if (child.IsDirectory)
            {
                if (!filter.IncludesDirectory(path))
                {
                    continue;
                }

                var directory = new DirectoryInfo(child.FullPath);
                if (directory.LinkTarget is not null)
                {
                    problems.Add((path, "symbolic link to a directory: not followed"));
                    continue;
                }

                entries.Add(new LocalEntry(path, directory.FullName, EntryKind.Directory, 0, Modified(directory), Mode(directory)));
                Listing grandchildren;
                try
                {
                    grandchildren = Listing.Read(directory.FullName);
                }
                catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
                {
                    problems.Add((path, $"cannot read directory: {ex.Message}"));
                    continue;
                }

                pending.Push((path, grandchildren));
            }
            else if (filter.IncludesFile(path))
            {
                if (children.Handle is { } handle)
                {
                    // One stat relative to the directory, following a link: the same answers as below without a
                    // readlink, a second look or a walk of the whole path.
                    if (!Posix.TryStatAt(handle, child.Name, followLinks: true, out var status, out _))
                    {
                        problems.Add((path, "dangling symbolic link"));
                    }
                    else if (!status.IsRegularFile)
                    {
                        problems.Add((path, "not a regular file (a pipe, socket or device): skipped"));
                    }
                    else
                    {
                        entries.Add(new LocalEntry(path, child.FullPath, EntryKind.File, status.Size, status.ModifiedUtc, status.PermissionBits));
                    }

                    continue;
                }

                var file = new FileInfo(child.FullPath);
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

    /// <summary>One directory's entries, sorted by name, and (on Linux) a handle of it to examine them through.</summary>
    private sealed class Listing : IDisposable
    {
        private readonly List<Child> _children;
        private int _index = -1;

        private Listing(List<Child> children, SafeFileHandle? handle)
        {
            _children = children;
            Handle = handle;
        }

        public SafeFileHandle? Handle { get; }

        public Child Current => _children[_index];

        /// <summary>Reads a directory's names without examining each entry (their kind comes from the directory itself).</summary>
        /// <exception cref="UnauthorizedAccessException">The directory cannot be read.</exception>
        /// <exception cref="IOException">Any other failure.</exception>
        public static Listing Read(string directory)
        {
            var children = new FileSystemEnumerable<Child>(directory, (ref FileSystemEntry entry) => new Child(entry.FileName.ToString(), entry.ToFullPath(), entry.IsDirectory), ListingOptions).ToList();
            children.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            return new Listing(children, OperatingSystem.IsLinux() ? Posix.TryOpenDirectoryNoFollow(directory) : null);
        }

        public bool MoveNext() => ++_index < _children.Count;

        public void Dispose() => Handle?.Dispose();
    }

    /// <summary>A directory entry: its name, its path, and whether it is (or links to) a directory.</summary>
    private readonly record struct Child(string Name, string FullPath, bool IsDirectory);

    /// <summary>
    /// True for a name whose bytes are not UTF-8: .NET decodes them with U+FFFD, so the decoded path names nothing
    /// (it would be reported as a dangling link, and stored remotely under a name the file does not have). A real
    /// U+FFFD in a name still exists under its decoded path.
    /// </summary>
    private static bool IsUndecodable(string name, string fullPath)
    {
        if (!name.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            // lstat: a dangling symbolic link with a real U+FFFD in its name still has attributes.
            _ = File.GetAttributes(fullPath);
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
