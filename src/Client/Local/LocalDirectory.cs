using System.IO.Enumeration;
using FileXfer.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client.Local;

/// <summary>
/// Reads one local directory for a tree walk: its entries sorted by name (ordinal), each examined once. Symbolic links
/// to files are followed; links to directories, dangling links, pipes, sockets, devices and names that cannot be
/// stored remotely come back as entries with a <see cref="LocalEntry.Problem"/>, so the walk can report them and
/// knows the name is taken. A tree is read one directory at a time: memory follows the widest directory.
/// </summary>
public static class LocalDirectory
{
    // Every entry, hidden ones too, and a directory that cannot be read is an error, as DirectoryInfo's own listing does.
    private static readonly EnumerationOptions ListingOptions = new() { AttributesToSkip = 0, IgnoreInaccessible = false };

    /// <summary>Reads the directory at <paramref name="path"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist (or vanished).</exception>
    /// <exception cref="UnauthorizedAccessException">The directory cannot be read.</exception>
    /// <exception cref="IOException">Any other failure.</exception>
    public static List<LocalEntry> Read(string path)
    {
        var children = new FileSystemEnumerable<(string Name, bool IsDirectory)>(path, (ref FileSystemEntry entry) => (entry.FileName.ToString(), entry.IsDirectory), ListingOptions).ToList();
        children.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        using var handle = OperatingSystem.IsLinux() ? Posix.TryOpenDirectoryNoFollow(path) : null;
        var entries = new List<LocalEntry>(children.Count);
        foreach (var (name, isDirectory) in children)
        {
            if (Examine(path, handle, name, isDirectory) is { } entry)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    /// <summary>One entry; null when it is gone since the directory was read.</summary>
    private static LocalEntry? Examine(string directory, SafeFileHandle? handle, string name, bool isDirectory)
    {
        if (IsUndecodable(name, directory))
        {
            return Problem(name, "name is not valid UTF-8; skipped");
        }

        if (!RemotePath.IsValidName(name, out var nameError))
        {
            return Problem(name, $"name cannot be stored remotely: {nameError}");
        }

        if (handle is not null)
        {
            if (!Posix.TryStatAt(handle, name, followLinks: false, out var own, out _))
            {
                return null;
            }

            if (!own.IsSymbolicLink)
            {
                return Describe(name, own, isLink: false);
            }

            // One more stat, through the link: a link to a file is sent as the file.
            return !Posix.TryStatAt(handle, name, followLinks: true, out var target, out _) ? Problem(name, "dangling symbolic link", isLink: true)
                : target.IsDirectory ? Problem(name, "symbolic link to a directory: not followed", isLink: true)
                : Describe(name, target, isLink: true);
        }

        var fullPath = Path.Join(directory, name);
        FileSystemInfo info = isDirectory ? new DirectoryInfo(fullPath) : new FileInfo(fullPath);
        if (!info.Exists)
        {
            return null;
        }

        bool link = info.LinkTarget is not null;
        if (link)
        {
            var resolved = info.ResolveLinkTarget(returnFinalTarget: true);
            if (resolved is null || !resolved.Exists)
            {
                return Problem(name, "dangling symbolic link", isLink: true);
            }

            if (resolved is DirectoryInfo || Directory.Exists(resolved.FullName))
            {
                return Problem(name, "symbolic link to a directory: not followed", isLink: true);
            }

            info = resolved;
        }

        var modified = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero);
        int? mode = OperatingSystem.IsWindows() ? null : (int)info.UnixFileMode;
        return info switch
        {
            DirectoryInfo => new LocalEntry(name, EntryKind.Directory, 0, modified, mode, link),
            FileInfo file when FileTypes.IsRegularFile(file.FullName) => new LocalEntry(name, EntryKind.File, file.Length, modified, mode, link),
            _ => Problem(name, "not a regular file (a pipe, socket or device): skipped", link),
        };
    }

    private static LocalEntry Describe(string name, FileStatus status, bool isLink) =>
        status.IsDirectory ? new LocalEntry(name, EntryKind.Directory, 0, status.ModifiedUtc, status.PermissionBits, isLink)
        : status.IsRegularFile ? new LocalEntry(name, EntryKind.File, status.Size, status.ModifiedUtc, status.PermissionBits, isLink)
        : Problem(name, "not a regular file (a pipe, socket or device): skipped", isLink);

    private static LocalEntry Problem(string name, string problem, bool isLink = false) =>
        new(name, EntryKind.Other, 0, default, null, isLink, problem);

    /// <summary>
    /// True for a name whose bytes are not UTF-8: .NET decodes them with U+FFFD, so the decoded path names nothing
    /// (it would be reported as a dangling link, and stored remotely under a name the file does not have). A real
    /// U+FFFD in a name still exists under its decoded path.
    /// </summary>
    private static bool IsUndecodable(string name, string directory)
    {
        if (!name.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            // lstat: a dangling symbolic link with a real U+FFFD in its name still has attributes.
            _ = File.GetAttributes(Path.Join(directory, name));
            return false;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not a missing name: left to the checks that follow, which report it.
            return false;
        }
    }
}
