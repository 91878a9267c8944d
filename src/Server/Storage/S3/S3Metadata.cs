using System.Globalization;
using Amazon.S3.Model;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// What FileXfer keeps in an object's user metadata (<c>x-amz-meta-fx-*</c>): the sender's modification time (to
/// 100 ns), the permission bits, and the verified hash with the size it was taken at. Metadata rides along with the
/// object in the same request (a HEAD or GET returns it): no second object to keep in step, nothing to read apart.
/// </summary>
internal static class S3Metadata
{
    private const string Modified = "fx-mtime";
    private const string Mode = "fx-mode";
    private const string HashAlgorithm = "fx-hash-algorithm";
    private const string Hash = "fx-hash";
    private const string HashSize = "fx-hash-size";

    public static void Write(MetadataCollection metadata, DateTimeOffset? modified, int? mode)
    {
        if (modified is { } time)
        {
            metadata.Add(Modified, time.UtcTicks.ToString(CultureInfo.InvariantCulture));
        }

        if (mode is { } bits)
        {
            metadata.Add(Mode, Convert.ToString(bits, 8));
        }
    }

    public static void WriteHash(MetadataCollection metadata, string algorithm, byte[] hash, long size)
    {
        metadata.Add(HashAlgorithm, algorithm);
        metadata.Add(Hash, Convert.ToHexStringLower(hash));
        metadata.Add(HashSize, size.ToString(CultureInfo.InvariantCulture));
    }

    public static DateTimeOffset ModifiedOr(MetadataCollection metadata, DateTimeOffset fallback) =>
        long.TryParse(Get(metadata, Modified), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks <= DateTimeOffset.MaxValue.UtcTicks
            ? new DateTimeOffset(ticks, TimeSpan.Zero)
            : fallback;

    public static int? ModeOf(MetadataCollection metadata)
    {
        var text = Get(metadata, Mode);
        if (string.IsNullOrEmpty(text) || text.Length > 6 || !text.All(c => c is >= '0' and <= '7'))
        {
            return null;
        }

        return Convert.ToInt32(text, 8);
    }

    /// <summary>The recorded hash when it was taken with <paramref name="algorithm"/> over <paramref name="size"/> bytes.</summary>
    public static byte[]? HashOf(MetadataCollection metadata, string algorithm, long size)
    {
        if (Get(metadata, HashAlgorithm) != algorithm
            || !long.TryParse(Get(metadata, HashSize), NumberStyles.None, CultureInfo.InvariantCulture, out var hashed) || hashed != size)
        {
            return null;
        }

        try
        {
            return Get(metadata, Hash) is { Length: > 0 } hex ? Convert.FromHexString(hex) : null;
        }
        catch (FormatException)
        {
            // Metadata written by someone else: hash the object instead.
            return null;
        }
    }

    private static string? Get(MetadataCollection metadata, string name) =>
        metadata.Keys.Contains("x-amz-meta-" + name) ? metadata["x-amz-meta-" + name] : null;
}
