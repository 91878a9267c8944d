using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FileXfer.Client.Sync;

/// <summary>
/// One <c>--include</c> or <c>--exclude</c> pattern, compiled to a regular expression. <c>*</c> matches within a
/// name, <c>**</c> across names, <c>?</c> one character, <c>[...]</c> one character of a class (as rsync and fnmatch
/// read it); none but <c>**</c> matches a <c>/</c>. A pattern with a <c>/</c> (a trailing one aside) matches the
/// path from the tree's top, one without matches the name alone; a trailing <c>/</c> makes it match directories only.
/// </summary>
internal sealed class GlobPattern
{
    private const int MaxCodePoint = 0x10FFFF;

    // rsync's wildmatch answers these from the C library in the C locale: ASCII only, whatever the names hold.
    private static readonly Dictionary<string, (int Low, int High)[]> NamedClasses = new(StringComparer.Ordinal)
    {
        ["alnum"] = [('0', '9'), ('A', 'Z'), ('a', 'z')],
        ["alpha"] = [('A', 'Z'), ('a', 'z')],
        ["blank"] = [('\t', '\t'), (' ', ' ')],
        ["cntrl"] = [(0, 0x1F), (0x7F, 0x7F)],
        ["digit"] = [('0', '9')],
        ["graph"] = [('!', '~')],
        ["lower"] = [('a', 'z')],
        ["print"] = [(' ', '~')],
        ["punct"] = [('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
        ["space"] = [('\t', '\r'), (' ', ' ')],
        ["upper"] = [('A', 'Z')],
        ["xdigit"] = [('0', '9'), ('A', 'F'), ('a', 'f')],
    };

    private readonly Regex _regex;

    private GlobPattern(Regex regex, bool nameOnly, bool directoryOnly)
    {
        _regex = regex;
        NameOnly = nameOnly;
        DirectoryOnly = directoryOnly;
    }

    /// <summary>True when the pattern is matched against the name alone, not the whole relative path.</summary>
    public bool NameOnly { get; }

    /// <summary>True for a pattern ending in <c>/</c>: it matches directories only.</summary>
    public bool DirectoryOnly { get; }

    /// <summary>True when the entry at <paramref name="relativePath"/>, named <paramref name="name"/>, matches.</summary>
    public bool Matches(string relativePath, string name, bool directory) =>
        (directory || !DirectoryOnly) && _regex.IsMatch(NameOnly ? name : relativePath);

    /// <exception cref="ArgumentException">The pattern is blank.</exception>
    /// <exception cref="FormatException">The pattern names an unknown <c>[:class:]</c>.</exception>
    public static GlobPattern Compile(string pattern)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        bool directoryOnly = pattern.EndsWith('/');

        // Any '/' but a trailing one makes a path pattern, a leading one too: "/build/" is the top's build only.
        var body = pattern.TrimEnd('/');
        bool nameOnly = !body.Contains('/', StringComparison.Ordinal);
        body = body.TrimStart('/');
        var regex = new StringBuilder("^");
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c == '*' && i + 1 < body.Length && body[i + 1] == '*')
            {
                // "**/" also matches no directory at all.
                if (i + 2 < body.Length && body[i + 2] == '/')
                {
                    regex.Append("(?:.*/)?");
                    i += 2;
                }
                else
                {
                    regex.Append(".*");
                    i++;
                }
            }
            else if (c == '[' && TryParseClass(body, i, pattern, out var members, out int end))
            {
                AppendClass(regex, members);
                i = end;
            }
            else
            {
                regex.Append(c switch
                {
                    '*' => "[^/]*",
                    // One character as people count them: a surrogate pair (an emoji) is one.
                    '?' => @"(?:[\uD800-\uDBFF][\uDC00-\uDFFF]|[^/])",
                    _ => Regex.Escape(c.ToString()),
                });
            }
        }

        regex.Append('$');
        return new GlobPattern(new Regex(regex.ToString(), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking), nameOnly, directoryOnly);
    }

    /// <summary>
    /// Reads the class that opens at <paramref name="start"/>, as fnmatch does: <c>!</c> or <c>^</c> first negates,
    /// a <c>]</c> first (after those) is a member, <c>a-z</c> is a range, <c>[:digit:]</c> a named class, and a
    /// <c>-</c> first or last is itself. Without a closing <c>]</c> there is no class: the <c>[</c> is literal.
    /// </summary>
    /// <returns>
    /// False when the class has no closing <c>]</c>. Otherwise <paramref name="members"/> holds the code points it
    /// matches ('/' and surrogate halves never among them) and <paramref name="end"/> is at its <c>]</c>.
    /// </returns>
    private static bool TryParseClass(string body, int start, string pattern, out List<(int Low, int High)> members, out int end)
    {
        members = [];
        end = start;
        int i = start + 1;
        bool negated = i < body.Length && body[i] is '!' or '^';
        if (negated)
        {
            i++;
        }

        for (bool first = true; i < body.Length; first = false)
        {
            if (body[i] == ']' && !first)
            {
                end = i;
                var matched = negated ? Complement(members) : members;
                members = Complement([.. Complement(matched), ('/', '/'), (0xD800, 0xDFFF)]);
                return true;
            }

            if (TryReadClassName(body, i) is { } name)
            {
                members.AddRange(NamedClasses.TryGetValue(name, out var ranges)
                    ? ranges
                    : throw new FormatException($"unknown character class '[:{name}:]' in '{pattern}'"));
                i += name.Length + 4;
                continue;
            }

            int low = ReadCodePoint(body, ref i);
            if (i + 1 < body.Length && body[i] == '-' && body[i + 1] != ']')
            {
                i++;
                int high = ReadCodePoint(body, ref i);

                // A range backwards (z-a) matches nothing, as in rsync's wildmatch.
                if (low <= high)
                {
                    members.Add((low, high));
                }
            }
            else
            {
                members.Add((low, low));
            }
        }

        return false;
    }

    /// <summary>The name of a <c>[:name:]</c> at <paramref name="index"/>, or null when there is none there.</summary>
    private static string? TryReadClassName(string body, int index)
    {
        if (!body.AsSpan(index).StartsWith("[:", StringComparison.Ordinal))
        {
            return null;
        }

        int end = index + 2;
        while (end < body.Length && char.IsAsciiLetterLower(body[end]))
        {
            end++;
        }

        return body.AsSpan(end).StartsWith(":]", StringComparison.Ordinal) ? body[(index + 2)..end] : null;
    }

    private static int ReadCodePoint(string text, ref int index)
    {
        // A lone surrogate reads as U+FFFD: a name holding one is refused before it reaches a filter.
        Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out int consumed);
        index += consumed;
        return rune.Value;
    }

    /// <summary>Sorted, with overlapping and adjacent ranges merged.</summary>
    private static List<(int Low, int High)> Normalize(List<(int Low, int High)> ranges)
    {
        var merged = new List<(int Low, int High)>();
        foreach (var (low, high) in ranges.OrderBy(r => r.Low))
        {
            if (merged.Count > 0 && low <= merged[^1].High + 1)
            {
                merged[^1] = (merged[^1].Low, Math.Max(merged[^1].High, high));
            }
            else
            {
                merged.Add((low, high));
            }
        }

        return merged;
    }

    private static List<(int Low, int High)> Complement(List<(int Low, int High)> ranges)
    {
        var gaps = new List<(int Low, int High)>();
        int next = 0;
        foreach (var (low, high) in Normalize(ranges))
        {
            if (low > next)
            {
                gaps.Add((next, low - 1));
            }

            next = Math.Max(next, high + 1);
        }

        if (next <= MaxCodePoint)
        {
            gaps.Add((next, MaxCodePoint));
        }

        return gaps;
    }

    /// <summary>
    /// Appends a regular expression for one code point of <paramref name="members"/> (no surrogates among them):
    /// a class for those of the basic plane, surrogate pairs for the others, as UTF-16 spells them.
    /// </summary>
    private static void AppendClass(StringBuilder regex, List<(int Low, int High)> members)
    {
        var alternatives = new List<string>();
        var basic = members.Where(r => r.Low <= 0xFFFF).Select(r => Range(r.Low, Math.Min(r.High, 0xFFFF))).ToList();
        if (basic.Count > 0)
        {
            alternatives.Add($"[{string.Concat(basic)}]");
        }

        foreach (var (low, high) in members.Where(r => r.High > 0xFFFF))
        {
            var (lowHigh, lowLow) = Surrogates(Math.Max(low, 0x10000));
            var (highHigh, highLow) = Surrogates(high);
            if (lowHigh == highHigh)
            {
                alternatives.Add($"{Range(lowHigh, lowHigh)}[{Range(lowLow, highLow)}]");
                continue;
            }

            alternatives.Add($"{Range(lowHigh, lowHigh)}[{Range(lowLow, 0xDFFF)}]");
            if (highHigh - lowHigh > 1)
            {
                alternatives.Add($"[{Range(lowHigh + 1, highHigh - 1)}][{Range(0xDC00, 0xDFFF)}]");
            }

            alternatives.Add($"{Range(highHigh, highHigh)}[{Range(0xDC00, highLow)}]");
        }

        // No member at all (such as [!\u0000-\U0010FFFF]): a class that matches nothing.
        regex.Append(alternatives.Count == 0 ? @"[^\u0000-\uFFFF]" : $"(?:{string.Join('|', alternatives)})");

        static (int High, int Low) Surrogates(int codePoint) =>
            (0xD800 + ((codePoint - 0x10000) >> 10), 0xDC00 + ((codePoint - 0x10000) & 0x3FF));

        static string Range(int low, int high) =>
            low == high ? Escape(low) : $"{Escape(low)}-{Escape(high)}";

        static string Escape(int c) => string.Create(CultureInfo.InvariantCulture, $@"\u{c:X4}");
    }
}
