using System.Text;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// The directory handles one connection has opened and located, by remote directory path, so that the files of one
/// directory cost one walk and one check of their path rather than several each: the next file is created, checked
/// and renamed relative to the handle (<c>fstatat</c>, <c>renameat</c>).
/// </summary>
/// <remarks>
/// A handle is trusted only where it still is: before each use its location is read again from
/// <c>/proc/self/fd</c> and compared with where it was found inside the root. A directory that was moved, renamed,
/// deleted or swapped for a symbolic link since then no longer matches; its handle is dropped and the path is walked
/// and checked anew, as for the first file. Linux only; one connection's, never shared between threads.
/// </remarks>
public sealed class DirectoryHandles : IDisposable
{
    /// <summary>
    /// At most this many handles are kept; past it, the cache starts over. A batch goes through its tree directory by
    /// directory, so a few suffice, and 256 connections hold at most 4,096 of them.
    /// </summary>
    public const int Capacity = 16;

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>How many handles are kept (for tests of the bound).</summary>
    internal int Count => _entries.Count;

    /// <summary>
    /// The handle of <paramref name="directory"/> (a normalized remote path; empty for the root) when one is kept and
    /// is still where it was found, with its real path in <paramref name="location"/>; a handle that moved is closed and
    /// forgotten, and null returned.
    /// </summary>
    public SafeFileHandle? Find(string directory, out string location)
    {
        location = string.Empty;
        if (!_entries.TryGetValue(directory, out var entry))
        {
            return null;
        }

        if (Posix.IsAt(entry.Handle, entry.Location))
        {
            location = entry.Path;
            return entry.Handle;
        }

        _entries.Remove(directory);
        entry.Handle.Dispose();
        return null;
    }

    /// <summary>The kept handle of <paramref name="directory"/>, without checking where it is; null when none is kept.</summary>
    public SafeFileHandle? Peek(string directory) => _entries.TryGetValue(directory, out var entry) ? entry.Handle : null;

    /// <summary>
    /// The kept handle of <paramref name="directory"/> when it was found at <paramref name="location"/> (to fsync the
    /// directory a file was just named in); null when none is kept, or a handle of another directory is kept now.
    /// </summary>
    public SafeFileHandle? Peek(string directory, string location) =>
        _entries.TryGetValue(directory, out var entry) && entry.Path == location ? entry.Handle : null;

    /// <summary>
    /// The kept handle of <paramref name="directory"/> without checking where it is, and the file system it is on (to
    /// create a file there that gets its name later); null when none is kept.
    /// </summary>
    public SafeFileHandle? Peek(string directory, out ulong device)
    {
        if (_entries.TryGetValue(directory, out var entry))
        {
            device = entry.Device;
            return entry.Handle;
        }

        device = 0;
        return null;
    }

    /// <summary>
    /// Keeps <paramref name="handle"/>, just opened and found at <paramref name="location"/> inside the root, for
    /// <paramref name="directory"/>; the cache owns it from then on. When the cache is full it starts over if
    /// <paramref name="evict"/> allows (no handle of it is in use), else the handle is not kept and false returned: the
    /// caller still owns it.
    /// </summary>
    public bool Keep(string directory, SafeFileHandle handle, string location, bool evict)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (_entries.Remove(directory, out var old))
        {
            old.Handle.Dispose();
        }
        else if (_entries.Count >= Capacity)
        {
            if (!evict)
            {
                return false;
            }

            Clear();
        }

        if (!Posix.TryStat(handle, out var status, out _))
        {
            return false;
        }

        _entries[directory] = new Entry(handle, location, Encoding.UTF8.GetBytes(location), status.Device);
        return true;
    }

    /// <inheritdoc />
    public void Dispose() => Clear();

    private void Clear()
    {
        foreach (var entry in _entries.Values)
        {
            entry.Handle.Dispose();
        }

        _entries.Clear();
    }

    private sealed record Entry(SafeFileHandle Handle, string Path, byte[] Location, ulong Device);
}
