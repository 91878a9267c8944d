using System.Globalization;
using System.Text;

namespace FileXfer.Client.Cli;

/// <summary>
/// How many terminal columns text takes, and text cut to fit: a character of the East Asian wide ranges (CJK, Hangul,
/// full-width forms, most emoji) takes two columns, every other character (with its combining marks) one.
/// </summary>
internal static class DisplayWidth
{
    private const string Ellipsis = "…";

    /// <summary>The columns <paramref name="text"/> takes.</summary>
    public static int Of(string text) => Elements(text).Sum(ElementColumns);

    /// <summary>
    /// <paramref name="text"/> when it fits in <paramref name="columns"/>; otherwise its start and its end with an
    /// ellipsis between them, the end of a file name being what tells files apart as often as its start.
    /// </summary>
    public static string Shorten(string text, int columns)
    {
        if (Of(text) <= columns)
        {
            return text;
        }

        var elements = Elements(text).ToList();
        int room = Math.Max(columns - 1, 0);
        int headRoom = room - (room / 2);
        var head = new StringBuilder();
        int used = 0;
        int first = 0;
        for (; first < elements.Count && used + ElementColumns(elements[first]) <= headRoom; first++)
        {
            used += ElementColumns(elements[first]);
            head.Append(elements[first]);
        }

        var tail = new List<string>();
        for (int last = elements.Count - 1; last >= first && used + ElementColumns(elements[last]) <= room; last--)
        {
            used += ElementColumns(elements[last]);
            tail.Add(elements[last]);
        }

        tail.Reverse();
        return head + Ellipsis + string.Concat(tail);
    }

    private static IEnumerable<string> Elements(string text)
    {
        var enumerator = StringInfo.GetTextElementEnumerator(text);
        while (enumerator.MoveNext())
        {
            yield return enumerator.GetTextElement();
        }
    }

    private static int ElementColumns(string element) => (Rune.DecodeFromUtf16(element, out var rune, out _) == System.Buffers.OperationStatus.Done ? rune.Value : 0) switch
    {
        >= 0x1100 and <= 0x115F or >= 0x2E80 and <= 0x303E or >= 0x3041 and <= 0x33FF or >= 0x3400 and <= 0x4DBF
            or >= 0x4E00 and <= 0x9FFF or >= 0xA000 and <= 0xA4CF or >= 0xAC00 and <= 0xD7A3 or >= 0xF900 and <= 0xFAFF
            or >= 0xFE30 and <= 0xFE4F or >= 0xFF00 and <= 0xFF60 or >= 0xFFE0 and <= 0xFFE6 or >= 0x1F300 and <= 0x1F64F
            or >= 0x1F900 and <= 0x1F9FF or >= 0x20000 and <= 0x3FFFD => 2,
        _ => 1,
    };
}
