using FileXfer.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client.Local;

/// <summary>
/// The local directories of a batch, each opened once (Linux): a download's temp files are created, renamed and their
/// directories synced, an upload's files opened and examined, relative to these handles rather than by walking their
/// whole paths again. A directory that is a symbolic link, or cannot be opened, gets no handle and its files take the
/// path-based way.
/// </summary>
internal sealed class LocalDirectories : IDisposable
{
    // Handles kept between commit groups; a batch over more directories starts over after a group.
    private const int Kept = 64;

    private readonly Dictionary<string, (SafeFileHandle? Handle, ulong Device)> _handles = new(StringComparer.Ordinal);

    /// <summary>The handle of <paramref name="directory"/> (a full path), opened at its first use; null when it cannot have one.</summary>
    public SafeFileHandle? Get(string directory) => Get(directory, out _);

    /// <summary>The same, with the file system the directory is on (0 when unknown).</summary>
    public SafeFileHandle? Get(string directory, out ulong device)
    {
        if (!_handles.TryGetValue(directory, out var entry))
        {
            var handle = Posix.TryOpenDirectoryNoFollow(directory);
            entry = (handle, handle is not null && Posix.TryStat(handle, out var status, out _) ? status.Device : 0);
            _handles[directory] = entry;
        }

        device = entry.Device;
        return entry.Handle;
    }

    /// <summary>True when <paramref name="directory"/> has no handle yet and the batch holds as many as it keeps: commit and <see cref="Trim"/> first.</summary>
    public bool IsFullFor(string directory) => _handles.Count >= Kept && !_handles.ContainsKey(directory);

    /// <summary>Closes the handles when there are many; only when none of them is in use (between a download batch's commit groups, between an upload's files).</summary>
    public void Trim()
    {
        if (_handles.Count > Kept)
        {
            Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (handle, _) in _handles.Values)
        {
            handle?.Dispose();
        }

        _handles.Clear();
    }
}
