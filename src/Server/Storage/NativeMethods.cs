using System.Runtime.InteropServices;

namespace FileXfer.Server.Storage;

/// <summary>The few POSIX calls .NET does not expose: fsync of a directory and realpath.</summary>
internal static partial class NativeMethods
{
    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000; // Linux value of O_DIRECTORY.

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
    /// Flushes every file of the file system that holds <paramref name="anyFile"/> to disk: one call instead of one
    /// <c>fsync</c> per file for a group of uploads (Linux <c>syncfs</c>; elsewhere an <c>fsync</c> of that file only
    /// is not enough, so callers fall back to per-file flushes).
    /// </summary>
    public static void SyncFileSystem(Microsoft.Win32.SafeHandles.SafeFileHandle anyFile)
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

    /// <summary>The canonical absolute path with every symbolic link resolved, or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return Path.GetFullPath(path);
        }

        nint resolved = RealPathNative(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
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

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);
}
