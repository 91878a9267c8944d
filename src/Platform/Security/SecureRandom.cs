using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace FileXfer.Platform;

/// <summary>
/// Cryptographically secure random bytes. On Linux they come from getrandom(2), the kernel's CSPRNG that .NET's
/// <see cref="RandomNumberGenerator"/> would also end in, without loading OpenSSL: every connection needs a nonce
/// and every download a temp name, and loading OpenSSL costs a short command (ls, stat, a small get) several
/// milliseconds. Elsewhere, or when the call is missing, <see cref="RandomNumberGenerator"/>.
/// </summary>
public static partial class SecureRandom
{
    // getrandom never returns fewer bytes than asked for up to this many.
    private const int MaxKernelRequest = 256;

    /// <summary>Fills <paramref name="buffer"/> with random bytes.</summary>
    public static void Fill(Span<byte> buffer)
    {
        if (!OperatingSystem.IsLinux() || buffer.Length > MaxKernelRequest || !TryKernel(buffer))
        {
            RandomNumberGenerator.Fill(buffer);
        }
    }

    /// <summary><paramref name="count"/> random bytes.</summary>
    public static byte[] GetBytes(int count)
    {
        var bytes = new byte[count];
        Fill(bytes);
        return bytes;
    }

    private static bool TryKernel(Span<byte> buffer)
    {
        try
        {
            return GetRandom(buffer, (nuint)buffer.Length, 0) == buffer.Length;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "getrandom")]
    private static partial nint GetRandom(Span<byte> buffer, nuint length, uint flags);
}
