using System.Runtime.InteropServices;
using System.Text;

namespace FileXfer.Client.Tests;

/// <summary>
/// Creates files whose names are raw bytes, not UTF-8: .NET cannot, since it encodes every path as UTF-8. Linux only
/// (macOS refuses such names).
/// </summary>
internal static partial class NonUtf8Names
{
    private const int WriteOnlyCreateExclusive = 0x1 | 0x40 | 0x80; // O_WRONLY | O_CREAT | O_EXCL

    /// <summary>
    /// Creates an empty file in <paramref name="directory"/> named by <paramref name="name"/>'s bytes; disposing
    /// removes it, which .NET could not (it cannot name it), so dispose it before the directory.
    /// </summary>
    public static IDisposable CreateFile(string directory, ReadOnlySpan<byte> name)
    {
        var path = new List<byte>(Encoding.UTF8.GetBytes(directory)) { (byte)'/' };
        path.AddRange(name);
        path.Add(0);
        byte[] bytes = [.. path];
        int fd = Open(bytes, WriteOnlyCreateExclusive, Convert.ToInt32("644", 8));
        if (fd < 0)
        {
            throw new IOException($"open failed with errno {Marshal.GetLastPInvokeError()}");
        }

        _ = Close(fd);
        return new Removal(bytes);
    }

    [LibraryImport("libc", EntryPoint = "unlink")]
    private static partial int Unlink(byte[] path);

    private sealed class Removal(byte[] path) : IDisposable
    {
        public void Dispose() => _ = Unlink(path);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int Open(byte[] path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
