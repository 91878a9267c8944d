namespace FileXfer.Protocol.Transfer;

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

    /// <summary>The permission bits, as .NET's <see cref="UnixFileMode"/> has them.</summary>
    public int PermissionBits => Mode & 0xFFF;
}
