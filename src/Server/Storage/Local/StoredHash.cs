using System.Globalization;
using System.Text;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// The verified hash of a stored file, kept beside its bytes in an extended attribute
/// (<c>user.filexfer.hash</c>) when an upload is committed, so a later get can send the file without reading
/// it through the hash (with sendfile, or an unhashed copy). The record names the algorithm, the size and the modification time it was
/// taken at; a file changed since (size or time differ) has no valid record. A file changed behind the server's
/// back with its time put back is sent with the hash it was stored with, so the client reports the difference
/// as an integrity failure instead of accepting it. Filesystems without user attributes simply keep no record.
/// </summary>
internal static partial class StoredHash
{
    /// <summary>Files smaller than this get no record: hashing them costs less than the attribute.</summary>
    public const long MinimumSize = 1024 * 1024;

    private const string AttributeName = "user.filexfer.hash";
    private const int MaxRecordBytes = 256;

    /// <summary>
    /// Records <paramref name="hash"/> for the file open as <paramref name="file"/>, of <paramref name="size"/> bytes, as it
    /// is now. Failures are ignored.
    /// </summary>
    public static void Record(SafeFileHandle file, string algorithm, byte[] hash, long size)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            if (size < MinimumSize)
            {
                return;
            }

            long mtime = File.GetLastWriteTimeUtc(file).Ticks;
            var record = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"1 {algorithm} {size} {mtime} {Convert.ToHexStringLower(hash)}"));
            _ = ExtendedAttributes.Set(file, AttributeName, record);
        }
        catch (IOException)
        {
            // No record: the next get hashes as it sends.
        }
    }

    /// <summary>
    /// The recorded hash for <paramref name="algorithm"/>, when the file still has the size (<paramref name="size"/>, as
    /// the caller read it from the open file) and the time it was recorded at.
    /// </summary>
    public static byte[]? Lookup(SafeFileHandle file, string algorithm, long size)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            Span<byte> buffer = stackalloc byte[MaxRecordBytes];
            int length = ExtendedAttributes.Get(file, AttributeName, buffer);
            if (length <= 0)
            {
                return null;
            }

            var parts = Encoding.ASCII.GetString(buffer[..length]).Split(' ');
            if (parts.Length != 5 || parts[0] != "1" || parts[1] != algorithm
                || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long recordedSize)
                || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out long mtime)
                || recordedSize != size
                || mtime != File.GetLastWriteTimeUtc(file).Ticks)
            {
                return null;
            }

            return Convert.FromHexString(parts[4]);
        }
        catch (Exception ex) when (ex is IOException or FormatException)
        {
            return null;
        }
    }
}
