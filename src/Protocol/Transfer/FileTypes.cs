using System.Runtime.InteropServices;

namespace FileXfer.Protocol.Transfer;

/// <summary>
/// Tells a regular file from a FIFO, a socket or a device, which .NET does not on Unix (it reports them all as
/// files). Opening a FIFO to read it blocks until someone writes to it, so a transfer must skip them first.
/// </summary>
public static partial class FileTypes
{
    private const int AtFdCwd = -100;
    private const int StatxType = 0x1;
    private const int StatxModeOffset = 28;
    private const int StatxSize = 256;
    private const int FileTypeMask = 0xF000;
    private const int RegularFile = 0x8000;

    /// <summary>
    /// True when <paramref name="path"/> (following symbolic links) is a regular file. Where the check is not
    /// available (not Linux), true for anything .NET sees as a file.
    /// </summary>
    public static bool IsRegularFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux())
        {
            return File.Exists(path);
        }

        // statx has one layout on every architecture: stx_mode is a u16 at byte 28.
        Span<byte> buffer = stackalloc byte[StatxSize];
        unsafe
        {
            fixed (byte* pointer = buffer)
            {
                if (Statx(AtFdCwd, path, 0, StatxType, pointer) != 0)
                {
                    return false;
                }
            }
        }

        int mode = BitConverter.ToUInt16(buffer.Slice(StatxModeOffset, 2));
        return (mode & FileTypeMask) == RegularFile;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directoryFd, string path, int flags, int mask, byte* buffer);
}
