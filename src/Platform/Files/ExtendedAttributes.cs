using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Platform;

/// <summary>A file's extended attributes through its open handle (fsetxattr(2), fgetxattr(2)), which .NET does not expose. Linux only.</summary>
public static partial class ExtendedAttributes
{
    /// <summary>Sets attribute <paramref name="name"/> of the open file to <paramref name="value"/>; 0, or -1 when refused (errno not kept).</summary>
    public static int Set(SafeFileHandle file, string name, ReadOnlySpan<byte> value) =>
        FSetXAttr(file, name, value, (nuint)value.Length, 0);

    /// <summary>Reads attribute <paramref name="name"/> of the open file into <paramref name="value"/>; its length, or -1 when it is missing, too long or refused.</summary>
    public static int Get(SafeFileHandle file, string name, Span<byte> value) =>
        (int)FGetXAttr(file, name, value, (nuint)value.Length);

    /// <summary>
    /// As <see cref="Get(SafeFileHandle, string, Span{byte})"/>, and on -1 why: <see cref="Missing"/> (the file has no such attribute), <see cref="Unsupported"/>
    /// (its file system keeps none), or another errno.
    /// </summary>
    public static int Get(SafeFileHandle file, string name, Span<byte> value, out int errno)
    {
        int length = (int)FGetXAttr(file, name, value, (nuint)value.Length);
        errno = length < 0 ? Marshal.GetLastPInvokeError() : 0;
        return length;
    }

    /// <summary>ENODATA: the file has no attribute of that name.</summary>
    public const int Missing = 61;

    /// <summary>EOPNOTSUPP (ENOTSUP): the file system keeps no user attributes.</summary>
    public const int Unsupported = 95;

    // The handle is held (not closed under the call) by the marshaller; the spans are pinned.
    [LibraryImport("libc", EntryPoint = "fsetxattr", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FSetXAttr(SafeFileHandle file, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "fgetxattr", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint FGetXAttr(SafeFileHandle file, string name, Span<byte> value, nuint size);
}
