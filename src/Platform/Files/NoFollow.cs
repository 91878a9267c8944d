using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Platform;

/// <summary>
/// open(2) with <c>O_NOFOLLOW</c>, which <see cref="File.OpenHandle"/> cannot ask for: a symbolic link as the last
/// component makes the open fail instead of being followed. Linux only.
/// </summary>
internal static class NoFollow
{
    private const int OwnerReadWrite = 0x180;

    /// <summary>Opens or creates <paramref name="path"/> for reading and writing, owner-only when created, never through a link.</summary>
    public static SafeFileHandle OpenReadWrite(string path)
    {
        var abi = LinuxAbi.Current;
        int fd = Posix.Open(path, abi.ReadWrite | abi.Create | abi.CloseOnExec | abi.NoFollow, OwnerReadWrite);
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        int errno = Marshal.GetLastPInvokeError();
        throw errno switch
        {
            Posix.TooManyLinks => new IOException($"'{path}' is a symbolic link; it is not followed"),
            Posix.NoSuchFile => new DirectoryNotFoundException($"could not find a part of the path '{path}'"),
            Posix.PermissionDenied => new UnauthorizedAccessException($"access to the path '{path}' is denied"),
            _ => new IOException($"cannot open '{path}': {Marshal.GetPInvokeErrorMessage(errno)}"),
        };
    }
}
