using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Platform;

/// <summary>
/// The system calls that make written files and renames durable, which .NET does not expose: a directory's
/// <c>fsync</c> and Linux's <c>syncfs</c>. Both sides use them to commit received files in groups.
/// </summary>
public static partial class Durable
{
    /// <summary>True where <see cref="SyncFileSystem"/> works (Linux).</summary>
    public static bool CanSyncFileSystem => OperatingSystem.IsLinux();

    /// <summary>
    /// Makes a rename in <paramref name="directory"/> durable. Without this, a crash right after a rename can
    /// lose it even though the file's own data was flushed.
    /// </summary>
    public static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        SafeFileHandle handle;
        try
        {
            handle = Posix.OpenDirectory(directory);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new IOException($"cannot open directory for fsync: {ex.Message}", ex);
        }

        using var directoryHandle = handle;
        FsyncDirectory(directoryHandle);
    }

    /// <summary>The same through a directory handle already open. Linux only.</summary>
    /// <exception cref="IOException">The fsync failed.</exception>
    public static void FsyncDirectory(SafeFileHandle directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (Fsync(directory) != 0)
        {
            throw new IOException($"fsync of directory failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>Writes an open file's data to the device (fsync). Linux only.</summary>
    /// <exception cref="IOException">The fsync failed.</exception>
    public static void FsyncFile(SafeFileHandle file)
    {
        if (Fsync(file) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"fsync failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    /// <summary>
    /// Flushes every file of the file system that holds <paramref name="anyFile"/> to disk: one call instead of
    /// one <c>fsync</c> per file for a group of files.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not Linux; flush each file instead.</exception>
    public static void SyncFileSystem(SafeFileHandle anyFile)
    {
        ArgumentNullException.ThrowIfNull(anyFile);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("syncfs is Linux only");
        }

        if (SyncFs(anyFile) != 0)
        {
            throw new IOException($"syncfs failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>
    /// Flushes a group of written files to disk, as <paramref name="policy"/> (default <see cref="SyncPolicy.Default"/>)
    /// decides per file system: one <c>syncfs</c> where that is trusted, else each file. <paramref name="device"/> is the
    /// file system they all lie on when the caller knows it; 0 (unknown): they may lie on several, and each is examined.
    /// </summary>
    public static void FlushAll(IReadOnlyList<InlineFileStream> files, ulong device = 0, SyncPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (!OperatingSystem.IsLinux())
        {
            foreach (var file in files)
            {
                file.FlushToDisk();
            }

            return;
        }

        (policy ?? SyncPolicy.Default).FlushAll([.. files.Select(f => f.Handle)], device);
    }

    /// <summary>
    /// Asks the device to start writing <paramref name="count"/> bytes of <paramref name="file"/> from
    /// <paramref name="offset"/> back now (Linux <c>sync_file_range</c> with <c>SYNC_FILE_RANGE_WRITE</c>), without
    /// waiting for it. A large file written this way as it arrives is mostly on the device when it is flushed at the
    /// end, so that flush waits for the last stretch only. Best effort: where the call is missing or refused
    /// (another system, a pipe, a file system without writeback), nothing happens; the flush at the end is what
    /// makes the file durable.
    /// </summary>
    public static void StartWriteback(SafeFileHandle file, long offset, long count)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (OperatingSystem.IsLinux() && count > 0)
        {
            _ = SyncFileRange(file, offset, count, SyncFileRangeWrite);
        }
    }

    private const uint SyncFileRangeWrite = 2;

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(SafeFileHandle fd, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(SafeFileHandle fd);
}
