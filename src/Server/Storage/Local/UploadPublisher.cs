namespace FileXfer.Server.Storage.Local;

/// <summary>
/// Where an upload gets its name: through the connection's kept handle of its directory when that is still where it
/// was (checked in place, <c>fstatat</c>, <c>renameat</c>, <c>linkat</c>), else by walking and checking its path
/// anew. Also the first check of a destination in a kept directory, and the keeping of directories for next time.
/// </summary>
internal sealed class UploadPublisher(StoreRoot root, StagingArea staging)
{
    /// <summary>
    /// The first check of an upload's destination, through its directory's kept handle: true when the directory is kept
    /// and the name is free or a regular file; false when the full walk must decide (nothing kept, the name is a link or
    /// something else). Where the handle is now is not asked here: nothing is written through it before the upload is
    /// published, which checks it in place (and walks the path again, creating what is missing, when it moved).
    /// </summary>
    /// <exception cref="FileXferException">The destination is a directory.</exception>
    public static bool TryCheckInKeptDirectory(string normalized, DirectoryHandles directories)
    {
        if (!StoreRoot.TrySplit(normalized, out var directory, out var name) || directories.Peek(directory) is not { } handle)
        {
            return false;
        }

        if (!Posix.TryStatAt(handle, name, followLinks: false, out var status, out int errno))
        {
            return errno == Posix.NoSuchFile;
        }

        return status.IsDirectory
            ? throw StorageErrors.IsADirectory(normalized)
            : status.IsRegularFile;
    }

    /// <summary>
    /// Opens, locates and keeps the directory that holds <paramref name="localPath"/>, when it is inside the served
    /// tree; a failure keeps nothing (the operation itself checks again and reports).
    /// </summary>
    public void KeepParent(DirectoryHandles directories, string normalized, string localPath, bool evict)
    {
        if (!Posix.CanLocateHandles || !StoreRoot.TrySplit(normalized, out var directory, out _))
        {
            return;
        }

        SafeFileHandle handle;
        try
        {
            handle = Posix.OpenDirectory(Path.GetDirectoryName(localPath)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        if (Posix.LocationOf(handle) is not { } location || !root.IsServable(location) || !directories.Keep(directory, handle, location, evict))
        {
            handle.Dispose();
        }
    }

    /// <summary>
    /// Gives the durable temp file of <paramref name="upload"/> its destination's name: a named one is renamed over it,
    /// an unnamed one linked in (or, over an existing file, linked into the staging area and renamed over it). Returns
    /// the directory that now holds it (its remote path and its real local path), to be synced for the name to be durable.
    /// </summary>
    public (string Directory, string LocalDirectory) Publish(PendingUpload upload)
    {
        StoreRoot.TrySplit(upload.Path, out var directory, out _);
        return StorageErrors.Wrap(upload.Path, () =>
        {
            bool announced = false;
            if (upload.Directories is { } kept && TryPublishInKeptDirectory(upload, kept, out announced, out var location, out var keptHandle))
            {
                SetParentTime(upload, keptHandle, location);
                return (directory, location);
            }

            // Checked again, as the upload's start checked it: the tree may have changed while the body was arriving. A
            // directory removed meanwhile is made again.
            var destination = root.PrepareFileDestination(upload.Path);

            if (!announced)
            {
                root.BeforeUse?.Invoke(upload.Path);
            }

            // Into a directory handle located first: a link swapped in meanwhile cannot take the file out of the root.
            var anchor = root.OpenVerifiedParent(upload.Path, destination);
            string? located;
            try
            {
                if (upload.TempPath is null)
                {
                    LinkInto(upload, anchor ?? throw new InvalidOperationException("an unnamed upload needs a directory handle"), System.IO.Path.GetFileName(destination), exists: false);
                }
                else
                {
                    System.IO.File.Move(upload.TempPath, StoreRoot.Below(anchor, destination), overwrite: true);
                }

                SetParentTime(upload, anchor, System.IO.Path.GetDirectoryName(destination)!);
                located = KeepAnchor(upload.Directories, upload.Path, ref anchor);
            }
            finally
            {
                anchor?.Dispose();
            }

            return (directory, located ?? System.IO.Path.GetDirectoryName(destination)!);
        });
    }

    /// <summary>
    /// Gives a directory the time <paramref name="modified"/>: through <paramref name="handle"/> (located inside the root)
    /// when there is one, else by its path <paramref name="localDirectory"/>. The parent time of a Put or a MakeDirectory
    /// (ParentMTime), set right after the entry was made, so whichever entry is made last leaves its directory at it.
    /// </summary>
    /// <exception cref="IOException">The time cannot be set.</exception>
    internal static void SetDirectoryTime(SafeFileHandle? handle, string localDirectory, DateTimeOffset modified)
    {
        if (handle is null)
        {
            Directory.SetLastWriteTimeUtc(localDirectory, modified.UtcDateTime);
        }
        else if (OperatingSystem.IsLinux())
        {
            Posix.SetModifiedTime(handle, modified);
        }
        else
        {
            File.SetLastWriteTimeUtc(handle, modified.UtcDateTime);
        }
    }

    /// <summary>
    /// After an upload got its name: its directory is given the upload's parent time, when it has one, before the
    /// group commit syncs the directory, so the time is as durable as the name.
    /// </summary>
    private static void SetParentTime(PendingUpload upload, SafeFileHandle? handle, string localDirectory)
    {
        if (upload.ParentModified is { } time)
        {
            upload.ParentTimeFailure = TrySetDirectoryTime(handle, localDirectory, time);
        }
    }

    /// <summary>
    /// <see cref="SetDirectoryTime"/> for a parent time (ParentMTime), which comes after its entry was made: a failure
    /// (a directory the server does not own: only its owner may set its time) cannot undo the entry, and must not make
    /// the request's answer an Error, which would say nothing was stored. The directory keeps the time the entry gave it,
    /// and the failure is returned (null when the time was set), for the Ok to say so (ParentTimeNotSet).
    /// </summary>
    internal static string? TrySetDirectoryTime(SafeFileHandle? handle, string localDirectory, DateTimeOffset modified)
    {
        try
        {
            SetDirectoryTime(handle, localDirectory, modified);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not an Error, see above: the entry is in place, only its directory's time is not what was asked.
            return ex.Message;
        }
    }

    /// <summary>
    /// Renames a sealed upload's temp file into its directory through the kept handle of that directory, checked in
    /// place right before: true when done, false when the full walk must do it (nothing kept, the directory moved,
    /// the name became a link or something else). <paramref name="announced"/> tells whether <see cref="StoreRoot.BeforeUse"/> ran,
    /// <paramref name="location"/> where the directory is (its real path), <paramref name="handle"/> the kept handle it went through.
    /// </summary>
    /// <exception cref="FileXferException">The destination is now a directory.</exception>
    private bool TryPublishInKeptDirectory(PendingUpload upload, DirectoryHandles directories, out bool announced, out string location, out SafeFileHandle? handle)
    {
        announced = false;
        location = string.Empty;
        handle = null;
        if (staging.Handle is null || !StoreRoot.TrySplit(upload.Path, out var directory, out var name) || directories.Peek(directory) is null)
        {
            return false;
        }

        root.BeforeUse?.Invoke(upload.Path);
        announced = true;
        handle = directories.Find(directory, out location);
        if (handle is null)
        {
            return false;
        }

        // An unnamed file is linked in at once when the name is free, the common case; a name taken is looked at first.
        if (upload.TempPath is null)
        {
            int linked = Posix.LinkAt(upload.TempFile.Handle, handle, name);
            if (linked == 0)
            {
                return true;
            }

            if (linked != Posix.FileExists)
            {
                throw new IOException($"cannot give the upload its name: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(linked)}", linked);
            }
        }

        bool exists = Posix.TryStatAt(handle, name, followLinks: false, out var status, out int errno);
        if (exists)
        {
            if (status.IsDirectory)
            {
                throw StorageErrors.IsADirectory(upload.Path);
            }

            if (!status.IsRegularFile)
            {
                return false;
            }
        }
        else if (errno != Posix.NoSuchFile)
        {
            return false;
        }

        if (upload.TempPath is null)
        {
            if (!exists)
            {
                // Gone again since the link found it: the full walk decides.
                return false;
            }

            LinkInto(upload, handle, name, exists: true);
            return true;
        }

        int failure = Posix.RenameAt(staging.Handle, Path.GetFileName(upload.TempPath), handle, name);
        return failure switch
        {
            0 => true,
            Posix.IsADirectory => throw StorageErrors.IsADirectory(upload.Path),
            _ => throw new IOException($"cannot rename the upload into place: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(failure)}", failure),
        };
    }

    /// <summary>
    /// Gives an unnamed upload its name <paramref name="name"/> in the directory held by <paramref name="directory"/>: a
    /// link when the name is free; over an existing file, a link in the staging area renamed over it, so the old file is
    /// replaced whole or not at all.
    /// </summary>
    /// <exception cref="IOException">The link or the rename failed (the errno in its HResult).</exception>
    /// <exception cref="FileXferException">The name is a directory.</exception>
    private void LinkInto(PendingUpload upload, SafeFileHandle directory, string name, bool exists)
    {
        var file = upload.TempFile.Handle;
        int failure = exists ? Posix.FileExists : Posix.LinkAt(file, directory, name);
        if (failure == Posix.FileExists)
        {
            var staged = StagingArea.NewTempName();
            failure = Posix.LinkAt(file, staging.Handle ?? throw new InvalidOperationException("no staging handle"), staged);
            if (failure == 0)
            {
                failure = Posix.RenameAt(staging.Handle, staged, directory, name);
                if (failure != 0)
                {
                    _ = Posix.UnlinkAt(staging.Handle, staged);
                }
            }
        }

        switch (failure)
        {
            case 0:
                return;
            case Posix.IsADirectory:
                throw StorageErrors.IsADirectory(upload.Path);
            default:
                throw new IOException($"cannot give the upload its name: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(failure)}", failure);
        }
    }

    /// <summary>
    /// The slow publish's directory handle, kept for the next file when there is room (never evicting: handles are in
    /// use). Returns where the directory is, when that could be read.
    /// </summary>
    private string? KeepAnchor(DirectoryHandles? directories, string normalized, ref SafeFileHandle? anchor)
    {
        if (anchor is null || Posix.LocationOf(anchor) is not { } location)
        {
            return null;
        }

        if (directories is not null && StoreRoot.TrySplit(normalized, out var directory, out _) && root.IsServable(location)
            && directories.Keep(directory, anchor, location, evict: false))
        {
            anchor = null;
        }

        return location;
    }
}
