using System.Text;
using System.Text.RegularExpressions;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Security;

/// <summary>
/// Reads the server's tokens file: text, <c>#</c> comments, one entry per line, <c>NAME ACCESS SECRET</c> where
/// ACCESS is <c>ro</c> or <c>rw</c>, optionally followed by <c>:/sub/tree</c>. Refuses, naming the file and line, a
/// malformed line, a duplicate name, a short secret, and (like ssh with its keys) a file that group or others
/// may read or write.
/// </summary>
public static partial class TokensFile
{
    /// <summary>The shortest secret accepted, in characters.</summary>
    public const int MinSecretLength = 16;

    /// <summary>Group and other permission bits that make a tokens file unusable.</summary>
    public const UnixFileMode UnsafeModes = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    /// <summary>Reads and checks the file at <paramref name="path"/>.</summary>
    /// <exception cref="TokensFileException">The file is missing, unreadable, open to others or malformed.</exception>
    public static IReadOnlyList<TokenEntry> Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text;
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                var mode = File.GetUnixFileMode(path);
                if ((mode & UnsafeModes) != 0)
                {
                    throw new TokensFileException($"tokens file '{path}' is readable or writable by group or others (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); run chmod 600 on it");
                }
            }

            text = File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            throw new TokensFileException($"cannot read tokens file '{path}': {ex.Message}", ex);
        }

        return Parse(text, path);
    }

    /// <summary>Parses the text of a tokens file; <paramref name="source"/> names it in error messages.</summary>
    /// <exception cref="TokensFileException">A line is malformed, or a name repeats.</exception>
    public static IReadOnlyList<TokenEntry> Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = new List<TokenEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r').Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var entry = ParseLine(line, i + 1, source);
            if (!names.Add(entry.Name))
            {
                throw Error(source, i + 1, $"token name '{entry.Name}' appears twice");
            }

            entries.Add(entry);
        }

        return entries;
    }

    /// <summary>True for a valid token name: 1 to 64 of A-Z, a-z, 0-9, dot, underscore, hyphen.</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    /// <summary>Reads an access word: <c>ro</c>, <c>rw</c>, optionally with <c>:/sub/tree</c>.</summary>
    public static bool TryParseAccess(string text, out TokenAccess access, out string subtree, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        subtree = string.Empty;
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        var word = colon < 0 ? text : text[..colon];
        access = word == "rw" ? TokenAccess.ReadWrite : TokenAccess.ReadOnly;
        if (word is not ("ro" or "rw"))
        {
            error = $"access must be ro or rw, optionally followed by :/sub/tree, not '{RemotePath.Escape(text)}'";
            return false;
        }

        if (colon >= 0)
        {
            var path = text[(colon + 1)..];
            if (!path.StartsWith('/') || !RemotePath.TryNormalize(path, out var normalized, out _))
            {
                error = $"subtree '{RemotePath.Escape(path)}' must be an absolute remote path such as /backups/host1";
                return false;
            }

            if (normalized.Split('/')[0] == FileStore.ReservedName)
            {
                error = $"subtree '{RemotePath.Escape(path)}' is inside the server's reserved folder";
                return false;
            }

            subtree = normalized;
        }

        error = null;
        return true;
    }

    private static TokenEntry ParseLine(string line, int number, string source)
    {
        var parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3)
        {
            throw Error(source, number, $"expected NAME ACCESS SECRET, found {parts.Length} word{(parts.Length == 1 ? string.Empty : "s")}");
        }

        var (name, accessText, secret) = (parts[0], parts[1], parts[2]);
        if (!IsValidName(name))
        {
            throw Error(source, number, $"token name '{RemotePath.Escape(name)}' must be 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'");
        }

        if (!TryParseAccess(accessText, out var access, out var subtree, out var error))
        {
            throw Error(source, number, error!);
        }

        if (secret.Length < MinSecretLength)
        {
            // The secret is not echoed: a log or a terminal is no place for it, even a bad one.
            throw Error(source, number, $"the secret of '{name}' is shorter than {MinSecretLength} characters");
        }

        return new TokenEntry(name, access, subtree, Encoding.UTF8.GetBytes(secret));
    }

    private static TokensFileException Error(string source, int line, string message) =>
        new($"tokens file '{source}' line {line}: {message}");

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
