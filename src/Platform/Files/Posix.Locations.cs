using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Platform;

/// <summary>
/// Where an open handle is now: its entry in <c>/proc/self/fd</c>, a link the kernel keeps pointing at the file or
/// directory however its path changed since it was opened. Read relative to <c>/proc/self/fd</c> held open, so no walk
/// to it each time.
/// </summary>
public static partial class Posix
{
    private const int ProcPathBytes = 4096;

    // /proc/self/fd, held open so a handle's location is read without walking to it each time.
    private static readonly Lazy<SafeFileHandle?> s_procFds = new(() =>
    {
        var abi = LinuxAbi.Current;
        int fd = Open("/proc/self/fd", abi.ReadOnly | abi.Directory | abi.CloseOnExec, 0);
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    });

    /// <summary>True where a handle's real location can be read back (<c>/proc/self/fd</c>), so opened paths can be checked after the fact.</summary>
    public static bool CanLocateHandles => OperatingSystem.IsLinux();

    /// <summary>The path through which the kernel reaches an open handle: a name that resolves to it however its path has changed since.</summary>
    public static string HandlePath(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return $"/proc/self/fd/{handle.DangerousGetHandle()}";
    }

    /// <summary>Where an open file or directory really is now (every link resolved), or null when that cannot be read (or not Linux).</summary>
    [SkipLocalsInit]
    public static string? LocationOf(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!CanLocateHandles)
        {
            return null;
        }

        Span<byte> buffer = stackalloc byte[ProcPathBytes];
        int length = ReadLink(handle, buffer);
        return length <= 0 || length >= buffer.Length ? null : Encoding.UTF8.GetString(buffer[..length]);
    }

    /// <summary>
    /// Whether the open <paramref name="handle"/> is now reached by exactly <paramref name="location"/> (UTF-8, as read
    /// from <c>/proc/self/fd</c> when it was opened): false once it was moved, renamed or deleted. Linux only.
    /// </summary>
    [SkipLocalsInit]
    public static bool IsAt(SafeFileHandle handle, ReadOnlySpan<byte> location)
    {
        ArgumentNullException.ThrowIfNull(handle);
        Span<byte> buffer = stackalloc byte[ProcPathBytes];
        int length = ReadLink(handle, buffer);
        return length == location.Length && buffer[..length].SequenceEqual(location);
    }

    /// <summary>readlink of the handle's entry in <c>/proc/self/fd</c>: relative to that directory, held open, when it could be opened.</summary>
    private static int ReadLink(SafeFileHandle handle, Span<byte> buffer)
    {
        var number = handle.DangerousGetHandle().ToString(CultureInfo.InvariantCulture);
        nint length = s_procFds.Value is { } fds
            ? ReadLinkAtNative(fds, number, buffer, buffer.Length)
            : ReadLinkNative(HandlePath(handle), buffer, buffer.Length);
        return length < 0 ? -1 : (int)length;
    }

    [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint ReadLinkAtNative(SafeFileHandle directory, string name, Span<byte> buffer, nint size);

    [LibraryImport("libc", EntryPoint = "readlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint ReadLinkNative(string path, Span<byte> buffer, nint size);
}
