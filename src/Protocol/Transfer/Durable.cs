using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Protocol.Transfer;

/// <summary>
/// The system calls that make written files and renames durable, which .NET does not expose: a directory's
/// <c>fsync</c> and Linux's <c>syncfs</c>. Both sides use them to commit received files in groups.
/// </summary>
public static partial class Durable
{
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000; // Linux value of O_DIRECTORY.

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

        int fd = Open(directory, ORdOnly | ODirectory);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory for fsync (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
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

        bool added = false;
        try
        {
            anyFile.DangerousAddRef(ref added);
            if (SyncFs((int)anyFile.DangerousGetHandle()) != 0)
            {
                throw new IOException($"syncfs failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            if (added)
            {
                anyFile.DangerousRelease();
            }
        }
    }

    /// <summary>Flushes a group of written files to disk: <c>syncfs</c> once where it exists, else each file.</summary>
    public static void FlushAll(IReadOnlyList<InlineFileStream> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count > 1 && CanSyncFileSystem)
        {
            SyncFileSystem(files[0].File.SafeFileHandle);
            return;
        }

        foreach (var file in files)
        {
            file.FlushToDisk();
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
