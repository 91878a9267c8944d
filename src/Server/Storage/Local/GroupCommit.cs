namespace FileXfer.Server.Storage.Local;

/// <summary>The durable group commit of uploads on a local file system: data on disk, then names, then directories.</summary>
internal static class GroupCommit
{
    /// <summary>
    /// Makes sealed uploads durable and visible: their data is flushed to disk (one <c>syncfs</c> for a group where the file system's syncfs is trusted, an <c>fsync</c> per file elsewhere,
    /// <c>fsync</c> for a single file), each is renamed over its destination, then each directory that received
    /// one is synced once. Nothing is renamed before its data is on disk, nor once <paramref name="fence"/> says its
    /// connection was abandoned by its client. Returns, per upload, null or why it failed; every upload is disposed.
    /// </summary>
    public static async ValueTask<IReadOnlyList<FileXferException?>> CommitAsync(IReadOnlyList<PendingUpload> uploads, SyncPolicy? policy = null, RunMember? fence = null)
    {
        ArgumentNullException.ThrowIfNull(uploads);
        var results = new FileXferException?[uploads.Count];
        try
        {
            try
            {
                // Per file system (an unnamed temp file lives on its directory's): one syncfs where the policy trusts it, else
                // an fsync of each file; an fsync for a lone file.
                foreach (var onDevice in uploads.GroupBy(u => u.Device))
                {
                    Durable.FlushAll([.. onDevice.Select(u => u.TempFile)], onDevice.Key, policy);
                }
            }
            catch (IOException ex)
            {
                var error = DiskFull.Is(ex)
                    ? new FileXferException(ErrorCode.InsufficientStorage, "no space left on the server's storage", ex)
                    : new FileXferException(ErrorCode.Internal, $"flushing uploads to disk failed: {ex.Message}", ex);
                Array.Fill(results, error);
                return results;
            }

            // Each directory that received a file (by its real path), once: through its kept handle when that is still
            // the handle of that same directory, else by its path. A directory whose sync fails for real fails its files:
            // they are in place, but their names may not survive a power loss, so they are not answered as stored.
            var directories = new Dictionary<string, (string Remote, DirectoryHandles? Handles, List<int> Uploads)>(StringComparer.Ordinal);
            for (int i = 0; i < uploads.Count; i++)
            {
                try
                {
                    var upload = uploads[i];
                    (string Directory, string LocalDirectory) published;
                    if (fence is null)
                    {
                        published = upload.Publish();
                    }
                    else if (!fence.TryPublish(upload.Publish, out published))
                    {
                        results[i] = RunMember.NotStored(upload.Path);
                        continue;
                    }

                    if (!directories.TryGetValue(published.LocalDirectory, out var entry))
                    {
                        entry = (published.Directory, upload.Directories, []);
                        directories.Add(published.LocalDirectory, entry);
                    }

                    entry.Uploads.Add(i);
                }
                catch (FileXferException ex)
                {
                    results[i] = ex;
                }
            }

            foreach (var (local, (directory, handles, published)) in directories)
            {
                try
                {
                    if (handles?.Peek(directory, local) is { } handle)
                    {
                        Durable.FsyncDirectory(handle);
                    }
                    else
                    {
                        Durable.FsyncDirectory(local);
                    }
                }
                catch (IOException ex) when (!Durable.IsUnsupportedDirectorySync(ex))
                {
                    foreach (int i in published)
                    {
                        results[i] = new FileXferException(ErrorCode.Internal, $"'{RemotePath.Escape(uploads[i].Path)}' is in place but its directory could not be made durable ({ex.Message}); it may not survive a power loss", ex);
                    }
                }
                catch (IOException)
                {
                    // A file system that does not sync directories: its renames are as durable as it makes them.
                }
            }

            return results;
        }
        finally
        {
            foreach (var upload in uploads)
            {
                await upload.DisposeAsync();
            }
        }
    }
}
