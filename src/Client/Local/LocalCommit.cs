using FileXfer.Platform;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client.Local;

/// <summary>
/// The local durable commit, for a single get and a batch's groups alike: received files are made durable and visible
/// together. Their data is flushed (one <c>syncfs</c> for several), each temp file is renamed over its destination,
/// then each directory is synced once. Nothing is renamed before its data is on disk.
/// </summary>
internal static class LocalCommit
{
    /// <summary>Commits one download; its local failure is raised.</summary>
    /// <exception cref="LocalWriteException">The file could not be made durable or renamed into place (no temp file is left), or is in place without its time or mode.</exception>
    public static void Commit(LocalDownload download)
    {
        if (Commit([download])[0] is { } failure)
        {
            throw LocalWriteException.For(download.LocalPath, failure);
        }
    }

    /// <summary>
    /// Commits finished downloads as a group. Returns, per file, null or the local failure (for a file saved without its
    /// time or mode, <see cref="LocalDownload.AttributesFailure"/>); no temp file is left.
    /// </summary>
    public static Exception?[] Commit(IReadOnlyList<LocalDownload> files)
    {
        var results = new Exception?[files.Count];
        try
        {
            // Files written through a directory handle are closed: one syncfs per file system, through such a handle,
            // flushes them. The others are still open and flushed as they are.
            // (A directory whose file system is unknown, device 0, is synced on its own.)
            foreach (var onDevice in files.Where(f => f.Directory is not null).GroupBy(f => f.Device == 0 ? (object)f : f.Device))
            {
                var first = onDevice.First();
                SyncPolicy.Default.FlushClosed(first.Directory!, first.Device, [.. onDevice.Select(f => f.Temp)]);
            }

            if (files.Where(f => f.Directory is null).Select(f => f.File!).ToList() is { Count: > 0 } open)
            {
                Durable.FlushAll(open);
            }
        }
        catch (IOException ex)
        {
            Array.Fill(results, ex);
        }

        var directories = new Dictionary<string, (SafeFileHandle? Handle, List<int> Files)>(StringComparer.Ordinal);
        for (int i = 0; i < files.Count; i++)
        {
            var received = files[i];
            received.CloseForCommit();
            if (results[i] is null)
            {
                try
                {
                    Rename(received);
                    var directory = Path.GetDirectoryName(received.Destination)!;
                    if (!directories.TryGetValue(directory, out var entry))
                    {
                        entry = (received.Directory, []);
                        directories.Add(directory, entry);
                    }

                    entry.Files.Add(i);
                    continue;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    results[i] = ex;
                }
            }

            LocalDownload.TryDelete(received.Temp);
        }

        foreach (var (directory, (handle, renamed)) in directories)
        {
            try
            {
                if (handle is not null)
                {
                    Durable.FsyncDirectory(handle);
                }
                else
                {
                    Durable.FsyncDirectory(directory);
                }
            }
            catch (IOException ex) when (!Durable.IsUnsupportedDirectorySync(ex))
            {
                // The files are in place, but their names may not survive a power loss: not reported saved.
                foreach (int i in renamed)
                {
                    results[i] = new IOException($"'{files[i].Destination}' is in place but its directory could not be made durable ({ex.Message}); it may not survive a power loss", ex);
                }
            }
            catch (IOException)
            {
                // A file system that does not sync directories: its renames are as durable as it makes them.
            }
        }

        for (int i = 0; i < files.Count; i++)
        {
            // Saved and durable, but without the sender's time or mode: a failure all the same, the data kept.
            results[i] ??= files[i].AttributesFailure;
        }

        return results;
    }

    private static void Rename(LocalDownload received)
    {
        if (received.Directory is { } handle)
        {
            // Within the directory's handle, opened once for the batch: no walk of either path.
            int failure = Posix.RenameAt(handle, Path.GetFileName(received.Temp), handle, Path.GetFileName(received.Destination));
            if (failure != 0)
            {
                throw new IOException($"cannot rename '{received.Temp}' to '{received.Destination}': {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(failure)}", failure);
            }
        }
        else if (OperatingSystem.IsLinux())
        {
            // rename(2) alone: File.Move would first look the temp file up again.
            Posix.Rename(received.Temp, received.Destination);
        }
        else
        {
            File.Move(received.Temp, received.Destination, overwrite: true);
        }
    }
}
