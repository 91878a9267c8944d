using System.Runtime.InteropServices;

namespace FileXfer.Platform;

/// <summary>realpath(3), geteuid(2) and the owner of a path, which .NET does not expose.</summary>
public static partial class Posix
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

        if (!TryStat(path, followLinks: false, out _, out uint owner, out int errno))
        {
            throw new IOException($"cannot examine '{path}': {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        return owner;
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);
}
