using System.Buffers;
using System.Text;

namespace FileXfer.Client.Tests;

/// <summary>
/// A pattern <c>d/PREFIX[CLASS]SUFFIX</c> built from its parts, a name to match as <c>d/NAME</c>, and the answer
/// worked out from the parts, character by character, with no regular expression.
/// </summary>
public sealed record ClassCase(string Prefix, string Negation, bool LeadingBracket, IReadOnlyList<(string Low, string High)> Members, bool TrailingDash, string Suffix, string Name)
{
    public string Pattern =>
        $"d/{Prefix}[{Negation}{(LeadingBracket ? "]" : "")}{string.Concat(Members.Select(m => m.Low == m.High ? m.Low : $"{m.Low}-{m.High}"))}{(TrailingDash ? "-" : "")}]{Suffix}";

    /// <summary>True when NAME is PREFIX, one character (not '/') of the class, and SUFFIX.</summary>
    public bool Expected()
    {
        if (Name.Length < Prefix.Length + Suffix.Length || !Name.StartsWith(Prefix, StringComparison.Ordinal) || !Name.EndsWith(Suffix, StringComparison.Ordinal))
        {
            return false;
        }

        var middle = Name.AsSpan(Prefix.Length, Name.Length - Prefix.Length - Suffix.Length);
        if (Rune.DecodeFromUtf16(middle, out var rune, out int used) != OperationStatus.Done || used != middle.Length || rune.Value == '/')
        {
            return false;
        }

        int c = rune.Value;
        bool member = (LeadingBracket && c == ']') || (TrailingDash && c == '-')
            || Members.Any(m => Rune.GetRuneAt(m.Low, 0).Value <= c && c <= Rune.GetRuneAt(m.High, 0).Value);
        return member != (Negation.Length > 0);
    }

    public override string ToString() => $"pattern '{Pattern}', name '{Name}'";
}
