using FsCheck;
using FsCheck.Fluent;

namespace FileXfer.Client.Tests;

/// <summary>FsCheck generators for character classes and --files-from lists.</summary>
public static class FilterArbitraries
{
    // Members anywhere in a class: both planes, both sides of the surrogates, '/' and '['. Not ']', '-', '!' or '^',
    // whose place in a class changes what they mean; the cases put those where they are members.
    private static readonly string[] MemberCharacters =
        ["a", "b", "m", "z", "A", "0", "9", ".", " ", "é", "ÿ", "文", "\uD7FF", "\uE000", "\uFFFD", "😀", "😁", "🙂", "𝄞", "\U0010FFFF", "/", "["];

    private static readonly string[] NameCharacters = [.. MemberCharacters, "]", "-", "!", "^", "c", "😂", "🌲", "Z"];

    private static readonly string[] Affixes = ["", "x", "é", "😀", "."];

    // Names that sort just before and after '/' (0x2F), to catch a search that forgets where "a/b" sorts.
    private static readonly string[] Components = ["a", "b", "a b", "a-b", "a.b", "ab", "a0", "é", "😀"];

    public static Arbitrary<ClassCase> ClassCase() =>
        (from prefix in Gen.Elements(Affixes)
         from negation in Gen.Elements("", "", "!", "^")
         from leadingBracket in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
         from count in Gen.Choose(1, 4)
         from members in Gen.ListOf(MemberGen, count)
         from trailingDash in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
         from suffix in Gen.Elements(Affixes)
         from middle in Gen.Elements(NameCharacters)
         from noise in Gen.ListOf(Gen.Elements(NameCharacters), 3)
         from shape in Gen.Choose(0, 3)
         let name = shape switch
         {
             0 => prefix + string.Concat(noise) + suffix,
             1 => string.Concat(noise.Take(2)),
             _ => prefix + middle + suffix,
         }
         select new ClassCase(prefix, negation, leadingBracket, members, trailingDash, suffix, name)).ToArbitrary();

    public static Arbitrary<ListCase> ListCase() =>
        (from count in Gen.Choose(0, 6)
         from listed in Gen.ListOf(PathGen(3), count)
         from spelled in Gen.CollectToList(listed, Spell)
         from queries in Gen.ListOf(QueryGen([.. listed]), 8)
         select new ListCase(listed, spelled, queries)).ToArbitrary();

    private static Gen<(string Low, string High)> MemberGen =>
        Gen.OneOf(
            Gen.Elements(MemberCharacters).Select(c => (c, c)),
            from low in Gen.Elements(MemberCharacters)
            from high in Gen.Elements(MemberCharacters)
            select (low, high));

    private static Gen<string> PathGen(int maxDepth) =>
        from depth in Gen.Choose(1, maxDepth)
        from names in Gen.ListOf(Gen.Elements(Components), depth)
        select string.Join('/', names);

    /// <summary>A path, a listed one, one above or one below a listed one.</summary>
    private static Gen<string> QueryGen(string[] listed) =>
        listed.Length == 0
            ? PathGen(4)
            : Gen.OneOf(
                PathGen(4),
                Gen.Elements(listed),
                from path in Gen.Elements(listed)
                let slash = path.LastIndexOf('/')
                select slash > 0 ? path[..slash] : path,
                from path in Gen.Elements(listed)
                from below in PathGen(2)
                select path + "/" + below,
                from path in Gen.Elements(listed)
                from tail in Gen.Elements(Components)
                select path + tail);

    private static Gen<string> Spell(string path) =>
        from lead in Gen.Elements("", "", "/", "./", "//", "/./", ".//")
        from trail in Gen.Elements("", "", "/", "//", "/.")
        select lead + path + trail;
}
