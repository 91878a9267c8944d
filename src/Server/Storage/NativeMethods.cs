using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Server.Storage;

/// <summary>
/// realpath(3), statx(2), geteuid(2) and open(2) of a directory, which .NET does not expose: the canonical path
/// with every link resolved, a path's owner, and a directory handle to operate below without walking its path again.
/// </summary>
internal static partial class NativeMethods
{
    private const int ReadOnly = 0x0;
    private const int CloseOnExec = 0x80000;
    private const int NoSuchFile = 2;
    private const int PermissionDenied = 13;
    private const int NotADirectory = 20;

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

    /// <summary>The user id of the running process, or null where there is none to ask (Windows).</summary>
    public static uint? EffectiveUserId() => OperatingSystem.IsWindows() ? null : GetEffectiveUserId();

    /// <summary>
    /// The user id that owns <paramref name="path"/> itself (a link is not followed), or null where it cannot be
    /// asked (not Linux). Throws when the path cannot be examined.
    /// </summary>
    public static uint? OwnerOf(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        const int AtFdCwd = -100;
        const int AtSymlinkNoFollow = 0x100;
        const uint StatxUid = 0x8;
        if (StatX(AtFdCwd, path, AtSymlinkNoFollow, StatxUid, out var buffer) != 0)
        {
            throw new IOException($"cannot examine '{path}': {Marshal.GetLastPInvokeErrorMessage()}");
        }

        return buffer.Uid;
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

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

    /// <summary>True where a handle's real location can be read back (<c>/proc/self/fd</c>), so opened paths can be checked after the fact.</summary>
    public static bool CanLocateHandles => OperatingSystem.IsLinux();

    /// <summary>Opens a directory (following links on the way) for use as an anchor: <c>O_RDONLY | O_DIRECTORY | O_CLOEXEC</c>. Linux only.</summary>
    public static SafeFileHandle OpenDirectory(string path)
    {
        // O_DIRECTORY differs between architectures (asm-generic for ARM, its own value on x86).
        int directory = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;
        int fd = Open(path, ReadOnly | directory | CloseOnExec, 0);
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

    /// <summary>The path through which the kernel reaches an open handle: a name that resolves to it however its path has changed since.</summary>
    public static string HandlePath(SafeFileHandle handle) => $"/proc/self/fd/{handle.DangerousGetHandle()}";

    /// <summary>Where an open file or directory really is now (every link resolved), or null when that cannot be read.</summary>
    public static string? LocationOf(SafeFileHandle handle) =>
        CanLocateHandles ? new FileInfo(HandlePath(handle)).LinkTarget : null;

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);
}
