using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Platform;

/// <summary>
/// The Linux file calls .NET does not expose, declared once for the client and the server: open(2) and openat(2) with
/// flags .NET cannot ask for (<c>O_DIRECTORY</c>, <c>O_NOFOLLOW</c>, <c>O_NONBLOCK</c>, <c>O_TMPFILE</c>), statx(2)
/// for a path's or a handle's type, owner, size and time, the *at calls that work relative to a directory handle
/// (renameat, linkat, unlinkat), futimens, positioned reads and writes, and where a handle is (<c>/proc/self/fd</c>).
/// Many small files cost a few of these each instead of the walks and checks .NET's path-based calls repeat.
/// The flag values that differ between architectures are chosen here.
/// </summary>
public static partial class Posix
{
    // errno values: asm-generic/errno-base.h and errno.h, the same on x64 and arm64 (see LinuxAbi).
    public const int NotPermitted = 1;
    public const int NoSuchFile = 2;
    public const int Interrupted = 4;
    public const int FileExists = 17;
    public const int PermissionDenied = 13;
    public const int NotADirectory = 20;
    public const int IsADirectory = 21;
    public const int NoSpace = 28;
    public const int NotSeekable = 29;
    public const int ReadOnlyFileSystem = 30;
    public const int TooManyLinks = 40;

    /// <summary>The file-type bits of <c>st_mode</c> and the types among them.</summary>
    public const int FileTypeMask = 0xF000;
    public const int RegularFileType = 0x8000;
    public const int DirectoryType = 0x4000;
    public const int SymbolicLinkType = 0xA000;
    public const int FifoType = 0x1000;
    public const int CharacterDeviceType = 0x2000;
    public const int BlockDeviceType = 0x6000;
    public const int SocketType = 0xC000;

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const int AtSymlinkFollow = 0x400;
    private const uint StatxType = 0x1;
    private const uint StatxMode = 0x2;
    private const uint StatxUid = 0x8;
    private const uint StatxMtime = 0x40;
    private const uint StatxSize = 0x200;
    private const long UtimeOmit = (1L << 30) - 2;

    // Whether linkat(AT_EMPTY_PATH) is allowed here; cleared at its first refusal.
    private static bool s_linkByHandle = true;

    /// <summary>
    /// Opens a directory (following links on the way) for use as an anchor or to fsync it:
    /// <c>O_RDONLY | O_DIRECTORY | O_CLOEXEC</c>. Linux only.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">There is no directory at <paramref name="path"/>.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be opened.</exception>
    /// <exception cref="IOException">Any other failure.</exception>
    public static SafeFileHandle OpenDirectory(string path)
    {
        var abi = LinuxAbi.Current;
        int fd = Open(path, abi.ReadOnly | abi.Directory | abi.CloseOnExec, 0);
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

    /// <summary>
    /// Opens <paramref name="name"/> inside the directory held by <paramref name="directory"/> (openat(2)) with raw
    /// <c>open</c> flags; returns the handle, or null with the errno. Linux only.
    /// </summary>
    public static SafeFileHandle? TryOpenAt(SafeFileHandle directory, string name, int flags, int mode, out int errno)
    {
        int fd = OpenAt(directory, name, flags | LinuxAbi.Current.CloseOnExec, mode);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Opens a directory without following a symbolic link as its last component (<c>O_DIRECTORY | O_NOFOLLOW</c>); null
    /// when it is a link or cannot be opened. Linux only.
    /// </summary>
    public static SafeFileHandle? TryOpenDirectoryNoFollow(string path)
    {
        var abi = LinuxAbi.Current;
        int fd = Open(path, abi.ReadOnly | abi.Directory | abi.NoFollow | abi.CloseOnExec, 0);
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// Opens an existing file to read it, not following a symbolic link as its last component and without blocking on a
    /// FIFO (<c>O_RDONLY | O_NOFOLLOW | O_NONBLOCK</c>); null with the errno when it cannot be opened. Linux only.
    /// </summary>
    public static SafeFileHandle? TryOpenReadNoFollow(string path, out int errno)
    {
        var abi = LinuxAbi.Current;
        int fd = Open(path, abi.ReadOnly | abi.NoFollow | abi.NonBlocking | abi.CloseOnExec, 0);
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Opens an existing file to read it (following links): <c>O_RDONLY | O_CLOEXEC</c>, nothing else. Linux only.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be read.</exception>
    /// <exception cref="IOException">Any other failure.</exception>
    public static SafeFileHandle OpenRead(string path)
    {
        var abi = LinuxAbi.Current;
        int fd = Open(path, abi.ReadOnly | abi.CloseOnExec, 0);
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        throw ReadOpenFailure(Marshal.GetLastPInvokeError(), path);
    }

    /// <summary>Opens <paramref name="name"/> in the directory held by <paramref name="directory"/> to read it (following links), as <see cref="OpenRead"/> does a path.</summary>
    /// <param name="directory">The directory's handle.</param>
    /// <param name="name">The file's name in it.</param>
    /// <param name="shownPath">The file's path, for messages.</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="UnauthorizedAccessException">It may not be read.</exception>
    /// <exception cref="IOException">Any other failure.</exception>
    public static SafeFileHandle OpenReadAt(SafeFileHandle directory, string name, string shownPath) =>
        TryOpenAt(directory, name, LinuxAbi.Current.ReadOnly, 0, out int errno) ?? throw ReadOpenFailure(errno, shownPath);

    // What a failed open of a file to read throws, in the words .NET's own file calls use.
    private static Exception ReadOpenFailure(int errno, string path) => errno switch
    {
        NoSuchFile or NotADirectory => new FileNotFoundException($"could not find file '{path}'", path),
        PermissionDenied => new UnauthorizedAccessException($"access to the path '{path}' is denied"),
        _ => new IOException($"cannot open '{path}': {Marshal.GetPInvokeErrorMessage(errno)}"),
    };

    /// <summary>
    /// Type and permission bits, owner, size and modification time of <paramref name="name"/> inside the directory held
    /// by <paramref name="directory"/> (the link itself when <paramref name="followLinks"/> is false); false with the errno
    /// when it cannot be examined. Linux only.
    /// </summary>
    public static bool TryStatAt(SafeFileHandle directory, string name, bool followLinks, out FileStatus status, out int errno)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return Complete(StatXAt(directory, name, followLinks ? 0 : AtSymlinkNoFollow, StatxType | StatxMode | StatxUid | StatxSize | StatxMtime, out var buffer), buffer, out status, out errno);
    }

    /// <summary>The same for an open file or directory (fstat). Linux only.</summary>
    public static bool TryStat(SafeFileHandle file, out FileStatus status, out int errno)
    {
        ArgumentNullException.ThrowIfNull(file);
        return Complete(StatXAt(file, string.Empty, AtEmptyPath, StatxType | StatxMode | StatxUid | StatxSize | StatxMtime, out var buffer), buffer, out status, out errno);
    }

    /// <summary>
    /// Type and permission bits, owner, size and modification time of <paramref name="path"/> (of the link itself when
    /// <paramref name="followLinks"/> is false); false with the errno when it cannot be examined. Linux only.
    /// </summary>
    public static bool TryStat(string path, bool followLinks, out FileStatus status, out int errno) =>
        Complete(StatX(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType | StatxMode | StatxUid | StatxSize | StatxMtime, out var buffer), buffer, out status, out errno);

    /// <summary>rename(2), replacing what is at <paramref name="to"/> (a link there is replaced, never followed). Linux only.</summary>
    /// <exception cref="IOException">The rename failed; its HResult carries the errno.</exception>
    public static void Rename(string from, string to)
    {
        if (RenameNative(from, to) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno is PermissionDenied or NotPermitted or ReadOnlyFileSystem
                ? new UnauthorizedAccessException($"access to the path '{to}' is denied")
                : new IOException($"cannot rename '{from}' to '{to}': {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    /// <summary>
    /// Creates an unnamed file for writing in the file system of the directory held by <paramref name="directory"/>
    /// (<c>O_TMPFILE</c>, owner-only): it has no name until <see cref="LinkAt"/> gives it one, and vanishes if it never
    /// gets one. Null with the errno where the file system cannot make such files. Linux only.
    /// </summary>
    public static SafeFileHandle? TryCreateUnnamed(SafeFileHandle directory, out int errno) =>
        TryOpenAt(directory, ".", LinuxAbi.Current.TempFile | LinuxAbi.Current.WriteOnly, 0x180, out errno);

    /// <summary>
    /// linkat(2) of an open file (an unnamed one included, through <c>/proc/self/fd</c>) to <paramref name="name"/> in the
    /// directory held by <paramref name="directory"/>; never replaces an existing name (EEXIST). The errno, or 0.
    /// </summary>
    public static int LinkAt(SafeFileHandle file, SafeFileHandle directory, string name)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (s_linkByHandle)
        {
            // linkat(fd, "", ..., AT_EMPTY_PATH): no walk through /proc. It needs Linux 6.10 for a caller without
            // CAP_DAC_READ_SEARCH; refused (ENOENT, EPERM), the /proc way is used from then on.
            if (LinkAtHandle(file, string.Empty, directory, name, AtEmptyPath) == 0)
            {
                return 0;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno is not (NoSuchFile or NotPermitted))
            {
                return errno;
            }

            s_linkByHandle = false;
        }

        return LinkAtNative(AtFdCwd, HandlePath(file), directory, name, AtSymlinkFollow) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>unlinkat(2) of a file name in the directory held by <paramref name="directory"/>; the errno, or 0.</summary>
    public static int UnlinkAt(SafeFileHandle directory, string name) =>
        UnlinkAtNative(directory, name, 0) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>renameat(2): moves <paramref name="from"/> in one directory handle to <paramref name="to"/> in another, replacing what is there; the errno, or 0.</summary>
    public static int RenameAt(SafeFileHandle fromDirectory, string from, SafeFileHandle toDirectory, string to) =>
        RenameAtNative(fromDirectory, from, toDirectory, to) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>Sets the modification time of an open file (futimens), leaving its access time. Linux only.</summary>
    /// <exception cref="IOException">The time cannot be set.</exception>
    public static void SetModifiedTime(SafeFileHandle file, DateTimeOffset modified)
    {
        ArgumentNullException.ThrowIfNull(file);
        long ticks = modified.UtcTicks - DateTime.UnixEpoch.Ticks;
        long seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long remainder);
        if (remainder < 0)
        {
            seconds--;
            remainder += TimeSpan.TicksPerSecond;
        }

        Span<long> times = [0, UtimeOmit, seconds, remainder * 100];
        if (FutimeNs(file, times) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno == PermissionDenied
                ? new UnauthorizedAccessException("setting the modification time was refused")
                : new IOException($"setting the modification time failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>pread(2) into <paramref name="buffer"/> at <paramref name="offset"/>, retried on EINTR.</summary>
    /// <exception cref="IOException">The read failed.</exception>
    public static unsafe int ReadAt(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        while (true)
        {
            nint read;
            fixed (byte* pointer = buffer)
            {
                read = PRead(file, pointer, buffer.Length, offset);
            }

            if (read >= 0)
            {
                return (int)read;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Interrupted)
            {
                throw new IOException($"read failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
        }
    }

    /// <summary>pwrite(2) of all of <paramref name="buffer"/> at <paramref name="offset"/>, looping over short writes.</summary>
    /// <exception cref="IOException">The write failed; its HResult is the errno, as .NET's own are (ENOSPC for a full disk).</exception>
    public static unsafe void WriteAt(SafeFileHandle file, ReadOnlySpan<byte> buffer, long offset)
    {
        while (!buffer.IsEmpty)
        {
            nint written;
            fixed (byte* pointer = buffer)
            {
                written = PWrite(file, pointer, buffer.Length, offset);
            }

            if (written < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interrupted)
                {
                    continue;
                }

                throw new IOException($"write failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }

            buffer = buffer[(int)written..];
            offset += written;
        }
    }

    private static bool Complete(int result, in StatxBuffer buffer, out FileStatus status, out int errno)
    {
        if (result != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            status = default;
            return false;
        }

        errno = 0;
        status = new FileStatus(buffer.Mode, buffer.Uid, (long)buffer.Size,
            DateTimeOffset.FromUnixTimeSeconds(buffer.MtimeSeconds).AddTicks(buffer.MtimeNanoseconds / 100),
            ((ulong)buffer.DeviceMajor << 32) | buffer.DeviceMinor);
        return true;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAt(SafeFileHandle directory, string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatXAt(SafeFileHandle directory, string path, int flags, uint mask, out StatxBuffer buffer);

    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAtNative(SafeFileHandle fromDirectory, string from, SafeFileHandle toDirectory, string to);

    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkAtNative(int fromDirectory, string from, SafeFileHandle toDirectory, string to, int flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkAtNative(SafeFileHandle directory, string name, int flags);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameNative(string from, string to);

    [LibraryImport("libc", EntryPoint = "futimens", SetLastError = true)]
    private static partial int FutimeNs(SafeFileHandle file, ReadOnlySpan<long> times);

    [LibraryImport("libc", EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkAtHandle(SafeFileHandle file, string empty, SafeFileHandle toDirectory, string to, int flags);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static unsafe partial nint PRead(SafeFileHandle file, byte* buffer, nint count, long offset);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static unsafe partial nint PWrite(SafeFileHandle file, byte* buffer, nint count, long offset);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatX(int directoryFd, string path, int flags, uint mask, out StatxBuffer buffer);

    /// <summary><c>struct statx</c> up to its device numbers, whose layout is the same on every Linux architecture; 256 bytes in all.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(0)]
        public uint Mask;
        [FieldOffset(20)]
        public uint Uid;
        [FieldOffset(28)]
        public ushort Mode;
        [FieldOffset(40)]
        public ulong Size;
        [FieldOffset(112)]
        public long MtimeSeconds;
        [FieldOffset(120)]
        public uint MtimeNanoseconds;
        [FieldOffset(136)]
        public uint DeviceMajor;
        [FieldOffset(140)]
        public uint DeviceMinor;
    }
}
