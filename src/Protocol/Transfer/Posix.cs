using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Protocol.Transfer;

/// <summary>
/// The Linux file calls .NET does not expose, declared once for the client and the server: open(2) with flags
/// .NET cannot ask for (<c>O_DIRECTORY</c>, <c>O_NOFOLLOW</c>), and statx(2) for a path's type and owner.
/// The flag values that differ between architectures are chosen here.
/// </summary>
public static partial class Posix
{
    internal const int ReadOnly = 0x0;
    internal const int ReadWrite = 0x2;
    internal const int Create = 0x40;
    internal const int CloseOnExec = 0x80000;

    internal const int NoSuchFile = 2;
    internal const int PermissionDenied = 13;
    internal const int NotADirectory = 20;
    internal const int TooManyLinks = 40;

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxUid = 0x8;

    // asm-generic values on ARM, x86's own elsewhere.
    private static readonly bool s_arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;

    /// <summary><c>O_DIRECTORY</c> for this architecture.</summary>
    internal static int Directory => s_arm ? 0x4000 : 0x10000;

    /// <summary><c>O_NOFOLLOW</c> for this architecture.</summary>
    internal static int NoFollow => s_arm ? 0x8000 : 0x20000;

    /// <summary>
    /// Opens a directory (following links on the way) for use as an anchor or to fsync it:
    /// <c>O_RDONLY | O_DIRECTORY | O_CLOEXEC</c>. Linux only.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">There is no directory at <paramref name="path"/>.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be opened.</exception>
    /// <exception cref="IOException">Any other failure.</exception>
    public static SafeFileHandle OpenDirectory(string path)
    {
        int fd = Open(path, ReadOnly | Directory | CloseOnExec, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                NoSuchFile or NotADirectory => new DirectoryNotFoundException($"directory '{path}' not found"),
                PermissionDenied => new UnauthorizedAccessException($"permission denied on '{path}'"),
                _ => new IOException($"cannot open directory '{path}' (errno {errno})"),
            };
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// The file type and permission bits (<c>st_mode</c>) and the owner of <paramref name="path"/>, the link itself when
    /// <paramref name="followLinks"/> is false; false with the errno when it cannot be examined. Linux only.
    /// </summary>
    public static bool TryStat(string path, bool followLinks, out int mode, out uint owner, out int errno)
    {
        if (StatX(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType | StatxUid, out var buffer) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            mode = 0;
            owner = 0;
            return false;
        }

        errno = 0;
        mode = buffer.Mode;
        owner = buffer.Uid;
        return true;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatX(int directoryFd, string path, int flags, uint mask, out StatxBuffer buffer);

    /// <summary>The head of <c>struct statx</c>, whose layout is the same on every Linux architecture; 256 bytes in all.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    private struct StatxBuffer
    {
        public uint Mask;
        public uint BlockSize;
        public ulong Attributes;
        public uint LinkCount;
        public uint Uid;
        public uint Gid;
        public ushort Mode;
    }
}
