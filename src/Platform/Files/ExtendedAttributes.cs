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

    // The handle is held (not closed under the call) by the marshaller; the spans are pinned.
    [LibraryImport("libc", EntryPoint = "fsetxattr", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FSetXAttr(SafeFileHandle file, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    [LibraryImport("libc", EntryPoint = "fgetxattr", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint FGetXAttr(SafeFileHandle file, string name, Span<byte> value, nuint size);
}
