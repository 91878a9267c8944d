using System.Runtime.InteropServices;
using FileXfer.Protocol.Transfer;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Server.Storage;

/// <summary>
/// realpath(3), geteuid(2) and the owner of a path (through <see cref="Posix"/>), which .NET does not expose, and
/// where an open handle really is (<c>/proc/self/fd</c>).
/// </summary>
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

        if (!Posix.TryStat(path, followLinks: false, out _, out uint owner, out int errno))
        {
            throw new IOException($"cannot examine '{path}': {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        return owner;
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();

    /// <summary>True where a handle's real location can be read back (<c>/proc/self/fd</c>), so opened paths can be checked after the fact.</summary>
    public static bool CanLocateHandles => OperatingSystem.IsLinux();

    /// <summary>The path through which the kernel reaches an open handle: a name that resolves to it however its path has changed since.</summary>
    public static string HandlePath(SafeFileHandle handle) => $"/proc/self/fd/{handle.DangerousGetHandle()}";

    /// <summary>Where an open file or directory really is now (every link resolved), or null when that cannot be read.</summary>
    public static string? LocationOf(SafeFileHandle handle) =>
        CanLocateHandles ? new FileInfo(HandlePath(handle)).LinkTarget : null;

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);
}
