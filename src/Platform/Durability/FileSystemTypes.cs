using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Platform;

/// <summary>
/// What kind of file system holds a file (<c>fstatfs</c>'s <c>f_type</c>), and whether one <c>syncfs</c> on it is known
/// to make every file written to it durable. On Linux, <c>syncfs</c> on a FUSE mount returns 0 without reaching the
/// file system's daemon unless it asked for it (only virtio-fs does), so on mergerfs, sshfs, s3fs, gocryptfs,
/// rclone mount and the like it is a silent no-op; the same for any file system without its own <c>sync_fs</c>, and for
/// overlayfs mounted <c>volatile</c>. Only the file systems below are trusted; every other one gets an <c>fsync</c> per file.
/// </summary>
public static partial class FileSystemTypes
{
    /// <summary>
    /// Magic numbers of <c>f_type</c> (linux/magic.h): ext2/3/4 (one number), XFS, Btrfs, F2FS, OpenZFS and tmpfs, whose
    /// <c>syncfs</c> reaches every file (tmpfs: nothing to sync); FUSE (syncfs does not reach the daemon), NFS (syncfs
    /// does not commit on the server; fsync does) and overlayfs (syncfs is a no-op when mounted volatile), which are not trusted.
    /// </summary>
    public const long Ext4 = 0xEF53, Xfs = 0x58465342, Btrfs = 0x9123683E, F2fs = 0xF2F52010, Zfs = 0x2FC12FC1, Tmpfs = 0x01021994,
        Fuse = 0x65735546, Nfs = 0x6969, Overlay = 0x794C7630;

    /// <summary>True when one <c>syncfs</c> on a file system of this type makes every file on it durable.</summary>
    public static bool TrustsSyncfs(long type) => type is Ext4 or Xfs or Btrfs or F2fs or Zfs or Tmpfs;

    /// <summary>The type of the file system that holds <paramref name="file"/>, or null when it cannot be asked (not Linux, or fstatfs failed).</summary>
    public static long? Of(SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // struct statfs is 120 bytes on x86-64 and arm64; f_type, a long, comes first.
        Span<long> buffer = stackalloc long[32];
        return FStatFs(file, ref MemoryMarshal.GetReference(buffer)) == 0 ? buffer[0] : null;
    }

    [LibraryImport("libc", EntryPoint = "fstatfs", SetLastError = true)]
    private static partial int FStatFs(SafeFileHandle file, ref long buffer);
}
