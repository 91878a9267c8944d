namespace FileXfer.Client.Sync;

/// <summary>
/// The files of <c>--exclude-from</c>, <c>--include-from</c> and <c>--files-from</c>, in rsync's format: one entry a
/// line, line ends LF or CRLF; blank lines and lines starting with <c>#</c> or <c>;</c> are skipped.
/// </summary>
public static class FilterFile
{
    /// <summary>The entries of a list, comments and blank lines left out.</summary>
    public static async Task<List<string>> ReadEntriesAsync(TextReader reader, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var entries = new List<string>();

        // ReadLineAsync ends a line at LF, CRLF or CR: the CR of a file written on Windows never reaches a pattern.
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!string.IsNullOrWhiteSpace(line) && line[0] is not ('#' or ';'))
            {
                entries.Add(line);
            }
        }

        return entries;
    }

    /// <summary>
    /// One line of a pattern file, as rsync reads it: <c>+ </c> before a pattern makes it an include, <c>- </c> an
    /// exclude, whichever option named the file; without either, it is what that option gives.
    /// </summary>
    public static (string Pattern, bool Include) ParseRule(string line, bool include)
    {
        ArgumentNullException.ThrowIfNull(line);
        return line.StartsWith("+ ", StringComparison.Ordinal) ? (line[2..], true)
            : line.StartsWith("- ", StringComparison.Ordinal) ? (line[2..], false)
            : (line, include);
    }
}
