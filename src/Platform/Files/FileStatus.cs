namespace FileXfer.Platform;

/// <summary>What one <c>statx</c> call tells about a path or an open file (see <see cref="Posix"/>).</summary>
/// <param name="Mode">The whole <c>st_mode</c>: file type and permission bits.</param>
/// <param name="Owner">The owner's user id.</param>
/// <param name="Size">The size in bytes.</param>
/// <param name="ModifiedUtc">The modification time, to 100 ns.</param>
/// <param name="Device">The file system it is on (major and minor device numbers).</param>
public readonly record struct FileStatus(int Mode, uint Owner, long Size, DateTimeOffset ModifiedUtc, ulong Device)
{
    /// <summary>A regular file (not a directory, link, FIFO, socket or device).</summary>
    public bool IsRegularFile => (Mode & Posix.FileTypeMask) == Posix.RegularFileType;

    /// <summary>A directory.</summary>
    public bool IsDirectory => (Mode & Posix.FileTypeMask) == Posix.DirectoryType;

    /// <summary>A symbolic link (only seen when links are not followed).</summary>
    public bool IsSymbolicLink => (Mode & Posix.FileTypeMask) == Posix.SymbolicLinkType;

    /// <summary>A FIFO (named pipe): its opener waits for the other end, and it has no size until read.</summary>
    public bool IsFifo => (Mode & Posix.FileTypeMask) == Posix.FifoType;

    /// <summary>A character device (<c>/dev/null</c>, <c>/dev/zero</c>, a terminal).</summary>
    public bool IsCharacterDevice => (Mode & Posix.FileTypeMask) == Posix.CharacterDeviceType;

    /// <summary>A block device (a disk or a partition).</summary>
    public bool IsBlockDevice => (Mode & Posix.FileTypeMask) == Posix.BlockDeviceType;

    /// <summary>A Unix domain socket.</summary>
    public bool IsSocket => (Mode & Posix.FileTypeMask) == Posix.SocketType;

    /// <summary>The permission bits, as .NET's <see cref="UnixFileMode"/> has them.</summary>
    public int PermissionBits => Mode & 0xFFF;
}
