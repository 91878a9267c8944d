using System.Runtime.InteropServices;

namespace FileXfer.Protocol.Security;

/// <summary>getrandom(2): cryptographically secure random bytes straight from the Linux kernel.</summary>
internal static partial class KernelRandom
{
    /// <summary>Fills <paramref name="buffer"/> (at most 256 bytes, which getrandom never splits); false when the call is not available.</summary>
    public static unsafe bool TryFill(Span<byte> buffer)
    {
        if (buffer.Length > 256)
        {
            return false;
        }

        try
        {
            fixed (byte* pointer = buffer)
            {
                return GetRandom(pointer, (nuint)buffer.Length, 0) == buffer.Length;
            }
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "getrandom")]
    private static unsafe partial nint GetRandom(byte* buffer, nuint length, uint flags);
}
