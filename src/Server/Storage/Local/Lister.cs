using System.IO.Enumeration;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// Listings of the local store: one directory's names read and sorted, each entry examined as it is sent, and a
/// tree walked depth first holding only the directories on the path being walked.
/// </summary>
/// <param name="root">The root the listed paths are confined to.</param>
/// <param name="maxEntries">The most entries one directory may hold to be listed.</param>
internal sealed class Lister(StoreRoot root, int maxEntries)
{
    /// <summary>
    /// Lists a directory, sorted by name (ordinal UTF-16), without the server's reserved folder. The names are read,
    /// and the per-directory limit checked, before this returns, so a bad path or an unreadable directory fails
    /// here; each entry is examined as the listing is enumerated, so a listing in flight holds the directory's
    /// names, never more. A name the protocol cannot carry comes as an omitted entry, to be reported, not hidden.
    /// Dispose the enumerator (foreach does) to release the directory.
    /// </summary>
    /// <exception cref="FileXferException">NotFound, NotADirectory, AccessDenied, TooLarge (more than
    /// <see cref="FileStoreOptions.MaxListEntries"/> entries in the directory).</exception>
    public IEnumerable<ListedEntry> List(string path)
    {
        var normalized = RemotePath.Normalize(path);
        var full = root.Resolve(normalized);
        if (!Directory.Exists(full))
        {
            throw File.Exists(full)
                ? new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(normalized)}' is not a directory")
                : StorageErrors.NotFound(normalized);
        }

        root.BeforeUse?.Invoke(normalized);
        return StorageErrors.Wrap(normalized, () =>
        {
            var anchor = root.OpenVerifiedDirectory(normalized, full);
            try
            {
                var directory = anchor is null ? full : Posix.HandlePath(anchor);
                var names = ReadNames(directory, normalized);
                return Examine(anchor, directory, names);
            }
            catch
            {
                anchor?.Dispose();
                throw;
            }
        });
    }

    /// <summary>The names of one directory, sorted, checked against the per-directory limit.</summary>
    private string[] ReadNames(string directory, string normalized)
    {
        var names = new List<string>();
        foreach (var name in new FileSystemEnumerable<string>(directory, (ref FileSystemEntry entry) => entry.FileName.ToString(), ListingOptions))
        {
            if (normalized.Length == 0 && name == FileStore.ReservedName)
            {
                continue;
            }

            if (names.Count == maxEntries)
            {
                throw new FileXferException(ErrorCode.TooLarge, $"'{RemotePath.Escape(normalized)}' has more than {maxEntries} entries (the server's --max-list-entries)");
            }

            names.Add(name);
        }

        var sorted = names.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return sorted;
    }

    /// <summary>
    /// Describes each name as it is enumerated: with one <c>statx</c> relative to the directory's handle where there is
    /// one (Linux), else through .NET. A link is described by its target, as <see cref="StoreRoot.ToEntry"/> does; a name gone
    /// since it was read is left out.
    /// </summary>
    private IEnumerable<ListedEntry> Examine(SafeFileHandle? anchor, string directory, string[] names)
    {
        using (anchor)
        {
            foreach (var name in names)
            {
                RemoteEntry entry;
                if (anchor is not null)
                {
                    if (!Posix.TryStatAt(anchor, name, followLinks: false, out var status, out _))
                    {
                        continue;
                    }

                    if (status.IsSymbolicLink)
                    {
                        entry = root.ToEntry(name, new FileInfo(Path.Combine(directory, name)));
                    }
                    else
                    {
                        var kind = status.IsDirectory ? EntryKind.Directory : status.IsRegularFile ? EntryKind.File : EntryKind.Other;
                        entry = new RemoteEntry(name, kind, kind == EntryKind.File ? status.Size : 0, status.ModifiedUtc, status.PermissionBits);
                    }
                }
                else
                {
                    var info = new FileInfo(Path.Combine(directory, name));
                    if (!info.Exists && !Directory.Exists(info.FullName))
                    {
                        continue;
                    }

                    entry = root.ToEntry(name, Directory.Exists(info.FullName) ? new DirectoryInfo(info.FullName) : info);
                }

                // A name the protocol cannot carry (made locally on the server) is reported, never sent.
                yield return RemotePath.IsValidName(name, out var error) ? new ListedEntry(entry, null) : new ListedEntry(entry, error ?? "invalid name");
            }
        }
    }

    // Every entry, hidden ones too, and a directory that cannot be read is an error, as DirectoryInfo's own listing does.
    private static readonly EnumerationOptions ListingOptions = new() { AttributesToSkip = 0, IgnoreInaccessible = false };

    /// <summary>
    /// The whole tree below a directory, parents before children, names sorted within each directory; each
    /// entry is named by its path relative to <paramref name="path"/>. Streams: what it holds at any time is the
    /// names of the directories on the path being walked, whatever the size of the tree. Each directory is limited
    /// as in <see cref="List"/>; a directory that cannot be entered (a link leading out of the root, one removed
    /// meanwhile) is listed, not descended into.
    /// </summary>
    public IEnumerable<ListedEntry> ListTree(string path)
    {
        var normalized = RemotePath.Normalize(path);
        var pending = new Stack<(string Relative, IEnumerator<ListedEntry> Entries)>();
        pending.Push((string.Empty, List(normalized).GetEnumerator()));
        try
        {
            while (pending.Count > 0)
            {
                var (relative, entries) = pending.Peek();
                if (!entries.MoveNext())
                {
                    entries.Dispose();
                    pending.Pop();
                    continue;
                }

                var listed = entries.Current;
                var childRelative = RemotePath.Combine(relative, listed.Entry.Name);
                yield return listed with { Entry = listed.Entry with { Name = childRelative } };
                if (listed.Omitted is null && listed.Entry.Kind == EntryKind.Directory && new FileInfo(Path.Combine(root.Root, normalized, childRelative)).LinkTarget is null)
                {
                    IEnumerator<ListedEntry> children;
                    try
                    {
                        children = List(RemotePath.Combine(normalized, childRelative)).GetEnumerator();
                    }
                    catch (FileXferException ex) when (ex.Code is ErrorCode.AccessDenied or ErrorCode.NotFound)
                    {
                        // A link that leads out of the root, or a directory removed meanwhile: listed, not descended into.
                        continue;
                    }

                    pending.Push((childRelative, children));
                }
            }
        }
        finally
        {
            while (pending.Count > 0)
            {
                pending.Pop().Entries.Dispose();
            }
        }
    }
}
