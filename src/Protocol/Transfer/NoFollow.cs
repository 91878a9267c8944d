using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Protocol.Transfer;

/// <summary>
/// open(2) with <c>O_NOFOLLOW</c>, which <see cref="File.OpenHandle"/> cannot ask for: a symbolic link as the last
/// component makes the open fail instead of being followed. Linux only.
/// </summary>
internal static partial class NoFollow
{
    private const int ReadWrite = 0x2;
    private const int Create = 0x40;
    private const int CloseOnExec = 0x80000;
    private const int OwnerReadWrite = 0x180;
    private const int NoSuchFile = 2;
    private const int PermissionDenied = 13;
    private const int TooManyLinks = 40;

    /// <summary>Opens or creates <paramref name="path"/> for reading and writing, owner-only when created, never through a link.</summary>
    public static SafeFileHandle OpenReadWrite(string path)
    {
        // O_NOFOLLOW differs between architectures (asm-generic for ARM, its own value on x86).
        int noFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;
        int fd = Open(path, ReadWrite | Create | CloseOnExec | noFollow, OwnerReadWrite);
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        int errno = Marshal.GetLastPInvokeError();
        throw errno switch
        {
            TooManyLinks => new IOException($"'{path}' is a symbolic link; it is not followed"),
            NoSuchFile => new DirectoryNotFoundException($"could not find a part of the path '{path}'"),
            PermissionDenied => new UnauthorizedAccessException($"access to the path '{path}' is denied"),
            _ => new IOException($"cannot open '{path}': {Marshal.GetPInvokeErrorMessage(errno)}"),
        };
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);
}
