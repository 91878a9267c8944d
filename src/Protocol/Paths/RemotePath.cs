using System.Text;

namespace FileXfer.Protocol.Paths;

/// <summary>
/// The remote path rules both sides share. A remote path is <c>/</c>-separated and relative to the server's
/// root; a leading <c>/</c> means the root and a trailing <c>/</c> is ignored. Components may not be empty,
/// <c>.</c> or <c>..</c>, may not hold a backslash, a control character or NUL, may not look like a drive
/// (<c>C:</c>), and are limited in length and depth.
/// </summary>
public static class RemotePath
{
    /// <summary>The normalized form of the root.</summary>
    public const string Root = "";

    /// <summary>
    /// Checks and normalizes a remote path: the result has no leading or trailing <c>/</c>, and is empty for the root.
    /// </summary>
    public static bool TryNormalize(string? path, out string normalized, out string? error)
    {
        normalized = Root;
        error = null;
        if (path is null)
        {
            error = "path is missing";
            return false;
        }

        if (!FitsInBytes(path, "path", ProtocolLimits.MaxPathBytes, out error))
        {
            return false;
        }

        var trimmed = path.AsSpan();
        if (trimmed.StartsWith('/'))
        {
            trimmed = trimmed[1..];
        }

        if (trimmed.EndsWith('/'))
        {
            trimmed = trimmed[..^1];
        }

        if (trimmed.IsEmpty)
        {
            return true;
        }

        int depth = 0;
        foreach (var range in trimmed.Split('/'))
        {
            if (++depth > ProtocolLimits.MaxPathDepth)
            {
                error = $"path is deeper than {ProtocolLimits.MaxPathDepth} components";
                return false;
            }

            if (!IsValidName(trimmed[range], out error))
            {
                return false;
            }
        }

        normalized = trimmed.ToString();
        return true;
    }

    /// <summary>Normalizes a remote path or throws <see cref="ErrorCode.InvalidPath"/>.</summary>
    public static string Normalize(string? path) =>
        TryNormalize(path, out var normalized, out var error)
            ? normalized
            : throw new FileXferException(ErrorCode.InvalidPath, $"invalid path {Escape(path ?? string.Empty)}: {error}");

    /// <summary>Checks one component: a file or directory name inside one directory.</summary>
    public static bool IsValidName(ReadOnlySpan<char> name, out string? error)
    {
        error = null;
        if (name.IsEmpty)
        {
            error = "empty path component";
            return false;
        }

        if (name is "." or "..")
        {
            error = $"'{name}' component is not allowed";
            return false;
        }

        if (name.Length >= 2 && name[1] == ':' && char.IsAsciiLetter(name[0]))
        {
            error = "drive-letter component is not allowed";
            return false;
        }

        foreach (char c in name)
        {
            if (c == '\\')
            {
                error = "backslash is not allowed in a name";
                return false;
            }

            if (c == '/')
            {
                error = "a name cannot hold '/'";
                return false;
            }

            if (char.IsControl(c))
            {
                error = "control character in a name";
                return false;
            }
        }

        return FitsInBytes(name, "name", ProtocolLimits.MaxNameBytes, out error);
    }

    /// <summary>True when <paramref name="text"/> is valid Unicode of at most <paramref name="limit"/> UTF-8 bytes; else why not.</summary>
    private static bool FitsInBytes(ReadOnlySpan<char> text, string what, int limit, out string? error)
    {
        int bytes;
        try
        {
            bytes = Field.StrictUtf8.GetByteCount(text);
        }
        catch (EncoderFallbackException)
        {
            error = $"{what} is not valid Unicode";
            return false;
        }

        if (bytes > limit)
        {
            error = $"{what} is {bytes} bytes long, over the limit of {limit}";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Joins a normalized directory path and a name.</summary>
    public static string Combine(string directory, string name) =>
        directory.Length == 0 ? name : directory + "/" + name;

    /// <summary>The last component of a normalized path (empty for the root).</summary>
    public static string GetName(string normalized)
    {
        int slash = normalized.LastIndexOf('/');
        return slash < 0 ? normalized : normalized[(slash + 1)..];
    }

    /// <summary>
    /// Makes a name safe to print on one line: control characters, backslashes and invalid UTF-16 are
    /// shown as escapes, so a hostile name cannot move the cursor or forge a log line. U+FFFD is shown as
    /// <c>\ufffd</c> too: in a name it usually stands for bytes that were not UTF-8, which a terminal would hide.
    /// </summary>
    public static string Escape(string value) => Escape(value, escapeBackslash: true);

    /// <summary>
    /// Escapes the control characters of a message from the peer before it is shown (a hostile one must not reach
    /// a terminal as escape sequences), keeping its backslashes: a message already escaped by its sender, such as
    /// <c>'a\u001b[31m' not found</c>, is shown as it was written, not escaped twice.
    /// </summary>
    public static string EscapeMessage(string value) => Escape(value, escapeBackslash: false);

    private static string Escape(string value, bool escapeBackslash)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                builder.Append(c).Append(value[++i]);
            }
            else if (char.IsControl(c) || char.IsSurrogate(c) || (c == '\\' && escapeBackslash) || c == '\uFFFD')
            {
                builder.Append(c switch
                {
                    '\n' => "\\n",
                    '\r' => "\\r",
                    '\t' => "\\t",
                    '\\' => "\\\\",
                    _ => $"\\u{(int)c:x4}",
                });
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
