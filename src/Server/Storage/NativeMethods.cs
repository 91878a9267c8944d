using System.Runtime.InteropServices;

namespace FileXfer.Server.Storage;

/// <summary>realpath(3), statx(2) and geteuid(2), which .NET does not expose.</summary>
internal static partial class NativeMethods
{
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

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);
}
