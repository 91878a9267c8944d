using System.Globalization;
using System.Text;

namespace FileXfer.Client.Local;

/// <summary>
/// The name a resumable upload gives the server for what it keeps of it: the same on every retry of one source to one
/// destination, and different for different sources. A name, not a proof: the server binds it to the path with SHA-256
/// and checks held bytes by their hash. Two uploads with the same name are taken for one upload retried (the newer
/// connection takes the partial over, the older is abandoned), so the name carries the source's own identity, this
/// machine and the file's full local path, beside its size and time: sixteen different files of one size, written in
/// the same clock tick and put to one name at once, are sixteen uploads, not one retried sixteen times.
/// </summary>
internal static class ResumeKeys
{
    /// <summary>
    /// The key of <paramref name="source"/> put to <paramref name="remote"/> (normalized) with
    /// <paramref name="algorithm"/>; <paramref name="shape"/> tells uploads of the same source in different shapes
    /// apart (the cut of a ranged upload's ranges).
    /// </summary>
    public static byte[] For(LocalSource source, string remote, string algorithm, string shape = "")
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{remote}\n{source.Size}\n{source.Modified.UtcTicks}\n{algorithm}\n{Environment.MachineName}\n{Path.GetFullPath(source.Path)}\n{shape}");
        // XXH128 needs no OpenSSL, which a short put with a fast hash would otherwise load for this alone.
        return System.IO.Hashing.XxHash128.Hash(Encoding.UTF8.GetBytes(text));
    }
}
