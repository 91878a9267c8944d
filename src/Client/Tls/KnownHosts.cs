using System.Text;
using FileXfer.Protocol.Net;

namespace FileXfer.Client.Tls;

/// <summary>
/// The known hosts file: one server a line, <c>HOST:PORT FINGERPRINT</c>, blank lines and <c>#</c> comments
/// ignored. Read on each connection that needs it; a new server is appended under a lock, so the connections of one
/// run record it once.
/// </summary>
internal static class KnownHosts
{
    private static readonly Lock Gate = new();

    /// <summary>The line recorded for <paramref name="server"/> (1-based) and its fingerprint, or null.</summary>
    /// <exception cref="ServerCertificateException">
    /// The first line for <paramref name="server"/> has no valid fingerprint. Ignoring it would trust whatever
    /// certificate comes on first use and record a second line beside it, so the check fails closed. Broken lines
    /// for other servers are ignored.
    /// </exception>
    public static (int Line, byte[] Fingerprint)? Find(string path, string server)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0][0] == '#' || !string.Equals(fields[0], server, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            return fields.Length >= 2 && CertificateFingerprint.TryParse(fields[1], out var fingerprint)
                ? (number, fingerprint)
                : throw new ServerCertificateException($"known hosts file '{path}' line {number} for {server} is not a valid fingerprint; fix or remove it");
        }

        return null;
    }

    /// <summary>
    /// Appends <paramref name="server"/> with its fingerprint, unless the file already has it (another connection of
    /// this run, or another run, recorded it meanwhile). The directory is created readable by its owner only, and so
    /// is the file.
    /// </summary>
    /// <returns>True when this call added the line; the line found otherwise.</returns>
    public static bool TryRecord(string path, string server, byte[] fingerprint, out (int Line, byte[] Fingerprint)? existing)
    {
        lock (Gate)
        {
            existing = Find(path, server);
            if (existing is not null)
            {
                return false;
            }

            var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else if (!Directory.Exists(directory))
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var stream = new FileStream(path, options);
            bool needsNewLine = false;
            if (stream.Length > 0)
            {
                stream.Seek(-1, SeekOrigin.End);
                needsNewLine = stream.ReadByte() != '\n';
            }

            // One write of a whole line at the end: a reader sees the line entirely or not at all.
            stream.Seek(0, SeekOrigin.End);
            stream.Write(Encoding.UTF8.GetBytes($"{(needsNewLine ? "\n" : string.Empty)}{server} {CertificateFingerprint.Format(fingerprint)}\n"));
            stream.Flush(flushToDisk: true);
            return true;
        }
    }
}
