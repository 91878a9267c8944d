using FileXfer.Client.Sync;
using FileXfer.Protocol.Paths;

namespace FileXfer.Client.Tests;

/// <summary>
/// Unit tests of <see cref="PathFilter"/>: the glob rules the README documents for --include and --exclude, the
/// --files-from list, and the format of the files those options read.
/// </summary>
public class PathFilterTests
{
    [Fact]
    public void Everything_is_included_without_patterns()
    {
        Assert.True(PathFilter.All.IncludesFile("a/b/c.txt"));
        Assert.True(PathFilter.All.IncludesDirectory("a/b"));
    }

    [Theory]
    [InlineData("x.log", false)]
    [InlineData("a/b/x.log", false)]
    [InlineData("a.log/x.txt", true)]
    [InlineData("x.log.txt", true)]
    [InlineData("xlog", true)]
    public void A_pattern_without_a_slash_matches_the_name_at_any_depth(string path, bool included) =>
        Assert.Equal(included, new PathFilter(null, ["*.log"]).IncludesFile(path));

    [Theory]
    [InlineData("docs/a.md", false)]
    [InlineData("x/docs/a.md", true)]
    [InlineData("docs/sub/a.md", true)]
    [InlineData("a.md", true)]
    public void A_pattern_with_a_slash_matches_the_whole_path_from_the_top(string path, bool included) =>
        Assert.Equal(included, new PathFilter(null, ["docs/*.md"]).IncludesFile(path));

    [Theory]
    [InlineData("docs/a.md", false)]
    [InlineData("docs/x/y/a.md", false)]
    [InlineData("other/docs/a.md", true)]
    [InlineData("docs/a.txt", true)]
    public void Double_star_slash_matches_any_number_of_directories_including_none(string path, bool included) =>
        Assert.Equal(included, new PathFilter(null, ["docs/**/*.md"]).IncludesFile(path));

    [Theory]
    [InlineData("build/a", false)]
    [InlineData("build/x/y/z.o", false)]
    [InlineData("builds/a", true)]
    [InlineData("src/build/a", true)]
    public void Double_star_at_the_end_matches_across_names(string path, bool included) =>
        Assert.Equal(included, new PathFilter(null, ["build/**"]).IncludesFile(path));

    [Theory]
    [InlineData("a.txt", false)]
    [InlineData("x/y/a.txt", false)]
    [InlineData("a.bin", true)]
    public void A_leading_double_star_matches_at_any_depth(string path, bool included) =>
        Assert.Equal(included, new PathFilter(null, ["**/*.txt"]).IncludesFile(path));

    [Theory]
    [InlineData("file1.txt", false)]
    [InlineData("dir/fileZ.txt", false)]
    [InlineData("file10.txt", true)]
    [InlineData("file.txt", true)]
    [InlineData("文件1.txt", true)]
    public void Question_mark_matches_exactly_one_character(string path, bool included) =>
        Assert.Equal(included, new PathFilter(null, ["file?.txt"]).IncludesFile(path));

    [Fact]
    public void Question_mark_and_star_do_not_match_a_slash()
    {
        var filter = new PathFilter(null, ["a?b/c", "x*y/z"]);

        Assert.False(filter.IncludesFile("a-b/c"));
        Assert.True(filter.IncludesFile("a/b/c"));
        Assert.False(filter.IncludesFile("x123y/z"));
        Assert.True(filter.IncludesFile("x1/2y/z"));
    }

    [Fact]
    public void Question_mark_matches_one_character_outside_the_basic_plane_as_one()
    {
        var filter = new PathFilter(null, ["photo ?.jpg"]);

        Assert.False(filter.IncludesFile("photo 😀.jpg"), "an emoji is one character to a user");
    }

    [Fact]
    public void Other_characters_are_literal()
    {
        var filter = new PathFilter(null, ["a+b (1).txt", "(x)|{y}.md", "^$.{2}"]);

        Assert.False(filter.IncludesFile("a+b (1).txt"));
        Assert.True(filter.IncludesFile("aab (1).txt"));
        Assert.True(filter.IncludesFile("aab 1.txt"));
        Assert.False(filter.IncludesFile("(x)|{y}.md"));
        Assert.True(filter.IncludesFile("x.md"));
        Assert.False(filter.IncludesFile("^$.{2}"));
        Assert.True(filter.IncludesFile("^$xx"));
    }

    [Theory]
    [InlineData("*.[oa]", "x.o", true)]
    [InlineData("*.[oa]", "src/x.a", true)]
    [InlineData("*.[oa]", "x.c", false)]
    [InlineData("*.[oa]", "x.oa", false)]
    [InlineData("*.[oa]", "x.[oa]", false)]
    [InlineData("file[0-9].txt", "file7.txt", true)]
    [InlineData("file[0-9].txt", "filea.txt", false)]
    [InlineData("file[0-9].txt", "file10.txt", false)]
    [InlineData("[a-cx-z]*", "box", true)]
    [InlineData("[a-cx-z]*", "yes", true)]
    [InlineData("[a-cx-z]*", "mine", false)]
    [InlineData("[!abc]*", "dog", true)]
    [InlineData("[!abc]*", "cat", false)]
    [InlineData("[^abc]*", "dog", true)]
    [InlineData("[^abc]*", "cat", false)]
    [InlineData("[!0-9].log", "x.log", true)]
    [InlineData("[!0-9].log", "5.log", false)]
    public void A_class_matches_one_character_of_its_members_or_of_none_when_negated(string pattern, string path, bool matches) =>
        Assert.Equal(matches, Excludes(pattern, path));

    [Theory]
    [InlineData("[]x].md", "].md", true)]
    [InlineData("[]x].md", "x.md", true)]
    [InlineData("[]x].md", "y.md", false)]
    [InlineData("[!]x].md", "y.md", true)]
    [InlineData("[!]x].md", "].md", false)]
    [InlineData("[-a]z", "-z", true)]
    [InlineData("[a-]z", "-z", true)]
    [InlineData("[a-]z", "bz", false)]
    [InlineData("[[]x]", "[x]", true)]
    [InlineData("[x].md", "x.md", true)]
    [InlineData("[x].md", "[x].md", false)]
    [InlineData("[z-a]x", "mx", false)]
    public void A_bracket_first_is_a_member_and_a_dash_first_or_last_is_itself(string pattern, string path, bool matches) =>
        Assert.Equal(matches, Excludes(pattern, path));

    [Theory]
    [InlineData("[abc", "[abc", true)]
    [InlineData("[abc", "a", false)]
    [InlineData("x[", "x[", true)]
    [InlineData("[!", "[!", true)]
    [InlineData("[]", "[]", true)]
    [InlineData("a[b*", "a[bcd", true)]
    [InlineData("a[b*", "ab", false)]
    public void An_unterminated_bracket_is_a_literal_bracket(string pattern, string path, bool matches) =>
        Assert.Equal(matches, Excludes(pattern, path));

    [Theory]
    [InlineData("x/a[!b]c", "x/a-c", true)]
    [InlineData("x/a[!b]c", "x/a/c", false)]
    [InlineData("x/a[+-0]c", "x/a.c", true)]
    [InlineData("x/a[+-0]c", "x/a/c", false)]
    [InlineData("x/a[/]c", "x/a/c", false)]
    [InlineData("**/a[!b]c", "y/a-c", true)]
    [InlineData("**/a[!b]c", "a/c", false)]
    public void A_class_never_matches_a_slash(string pattern, string path, bool matches) =>
        Assert.Equal(matches, Excludes(pattern, path));

    [Theory]
    [InlineData("[😀x].jpg", "😀.jpg", true)]
    [InlineData("[😀x].jpg", "x.jpg", true)]
    [InlineData("[😀x].jpg", "😁.jpg", false)]
    [InlineData("[!x].jpg", "😀.jpg", true)]
    [InlineData("[!😀].jpg", "😀.jpg", false)]
    [InlineData("[!😀].jpg", "é.jpg", true)]
    [InlineData("[😀-🙂].jpg", "😂.jpg", true)]
    [InlineData("[😀-🙂].jpg", "😀😀.jpg", false)]
    [InlineData("[𝄞-😀].jpg", "🌲.jpg", true)]
    [InlineData("[𝄞-😀].jpg", "🙂.jpg", false)]
    [InlineData("[а-я]*", "отчёт", true)]
    public void A_class_matches_one_character_as_people_count_them(string pattern, string path, bool matches) =>
        Assert.Equal(matches, Excludes(pattern, path));

    [Theory]
    [InlineData("[[:digit:]]*", "2024.tar", true)]
    [InlineData("[[:digit:]]*", "x2024.tar", false)]
    [InlineData("[![:alpha:]]*", "_tmp", true)]
    [InlineData("[![:alpha:]]*", "tmp", false)]
    [InlineData("[[:upper:][:digit:]]", "Q", true)]
    [InlineData("[[:upper:][:digit:]]", "q", false)]
    [InlineData("[[:space:]]x", " x", true)]
    [InlineData("[[:alpha:]]", "é", false)]
    [InlineData("[[:foo]", "[:foo", false)]
    [InlineData("[[:foo]", "f", true)]
    public void A_named_class_is_read_as_rsync_reads_it_in_ascii(string pattern, string path, bool matches) =>
        Assert.Equal(matches, Excludes(pattern, path));

    [Fact]
    public void An_unknown_named_class_is_refused()
    {
        var error = Assert.Throws<FormatException>(() => new PathFilter(null, ["[[:letters:]]*"]));

        Assert.Contains("[:letters:]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pattern_ending_in_a_slash_leaves_out_directories_of_that_name_and_not_files()
    {
        var filter = new PathFilter(null, ["cache/"]);

        Assert.False(filter.IncludesDirectory("cache"));
        Assert.False(filter.IncludesDirectory("a/b/cache"));
        Assert.True(filter.IncludesDirectory("cachet"));
        Assert.True(filter.IncludesFile("cache"));
        Assert.True(filter.IncludesFile("a/cache"));
    }

    [Fact]
    public void A_pattern_without_a_trailing_slash_leaves_out_directories_too()
    {
        // As rsync: --exclude cache leaves out a directory named cache with all it holds, and files named cache.
        var filter = new PathFilter(null, ["cache", "*.d"]);

        Assert.False(filter.IncludesDirectory("cache"));
        Assert.False(filter.IncludesDirectory("a/b/cache"));
        Assert.False(filter.IncludesFile("cache"));
        Assert.False(filter.IncludesFile("a/cache"));
        Assert.False(filter.IncludesDirectory("conf.d"));
        Assert.True(filter.IsBelowExcludedDirectory("a/cache/x.txt"));
        Assert.True(filter.IsBelowExcludedDirectory("conf.d/x"));
        Assert.True(filter.IncludesDirectory("cachet"));
        Assert.True(filter.IncludesFile("cachet/x"));
    }

    [Fact]
    public void Excluding_everything_leaves_out_directories_as_well_as_files()
    {
        var filter = new PathFilter(null, ["*"]);

        Assert.False(filter.IncludesFile("anything"));
        Assert.False(filter.IncludesDirectory("anything"));
    }

    [Fact]
    public void Including_star_slash_keeps_every_directory_walked_so_that_a_file_pattern_reaches_every_depth()
    {
        // rsync's idiom for "only .txt files, at any depth".
        var filter = new PathFilter(["*/", "*.txt"], ["*"]);

        Assert.True(filter.IncludesDirectory("a"));
        Assert.True(filter.IncludesDirectory("a/b"));
        Assert.True(filter.IncludesFile("a/b/c.txt"));
        Assert.False(filter.IncludesFile("a/b/c.bin"));
        Assert.False(filter.IsBelowExcludedDirectory("a/b/c.txt"));
    }

    [Fact]
    public void Without_star_slash_a_file_include_does_not_walk_into_excluded_directories()
    {
        var filter = new PathFilter(["*.txt"], ["*"]);

        Assert.True(filter.IncludesFile("a.txt"));
        Assert.False(filter.IncludesDirectory("a"));
        Assert.True(filter.IsBelowExcludedDirectory("a/b.txt"));
    }

    [Fact]
    public void A_leading_slash_anchors_the_pattern_at_the_top()
    {
        // The README: a pattern with a '/' matches the path relative to the tree's top.
        var filter = new PathFilter(null, ["/build/", "/*.tmp"]);

        Assert.False(filter.IncludesDirectory("build"));
        Assert.True(filter.IncludesDirectory("src/build"));
        Assert.False(filter.IncludesFile("x.tmp"));
        Assert.True(filter.IncludesFile("src/x.tmp"));
    }

    [Fact]
    public void An_include_rescues_what_an_exclude_matches()
    {
        var filter = new PathFilter(["*.txt", "keep/"], ["*", "keep/", "drop/"]);

        Assert.True(filter.IncludesFile("a.txt"));
        Assert.True(filter.IncludesFile("x/y/a.txt"));
        Assert.False(filter.IncludesFile("a.bin"));
        Assert.True(filter.IncludesDirectory("keep"));
        Assert.False(filter.IncludesDirectory("drop"));
        Assert.False(filter.IncludesDirectory("other"));
    }

    [Fact]
    public void The_order_of_includes_and_excludes_does_not_matter()
    {
        // Unlike rsync, where the first matching rule wins: an include rescues whatever excludes match.
        var excludeFirst = new PathFilter(["keep.log"], ["*.log"]);
        var includeFirst = new PathFilter(["keep.log", "*.log"], ["*.log", "keep.log"]);

        Assert.True(excludeFirst.IncludesFile("keep.log"));
        Assert.False(excludeFirst.IncludesFile("drop.log"));
        Assert.True(includeFirst.IncludesFile("drop.log"));
    }

    [Fact]
    public void An_include_of_a_directory_does_not_rescue_files()
    {
        var filter = new PathFilter(["data/"], ["*"]);

        Assert.False(filter.IncludesFile("data"));
        Assert.False(filter.IncludesFile("data/x"));
    }

    [Fact]
    public void Names_in_any_script_match()
    {
        var filter = new PathFilter(null, ["文档*", "Документы/**"]);

        Assert.False(filter.IncludesFile("a/文档 2024.txt"));
        Assert.False(filter.IncludesFile("Документы/отчёт.odt"));
        Assert.True(filter.IncludesFile("x/Документы/отчёт.odt"));
    }

    [Fact]
    public void A_path_below_an_excluded_directory_is_below_an_excluded_directory()
    {
        var filter = new PathFilter(null, ["cache/", "/top/"]);

        Assert.True(filter.IsBelowExcludedDirectory("cache/x"));
        Assert.True(filter.IsBelowExcludedDirectory("a/cache/b/c.txt"));
        Assert.True(filter.IsBelowExcludedDirectory("top/x"));
        Assert.False(filter.IsBelowExcludedDirectory("cache"));
        Assert.False(filter.IsBelowExcludedDirectory("a/top/x"));
        Assert.False(filter.IsBelowExcludedDirectory("cachet/x"));
        Assert.False(PathFilter.All.IsBelowExcludedDirectory("a/b/c"));
    }

    [Fact]
    public void Files_from_includes_listed_files_and_directories_with_all_below_them_and_nothing_else()
    {
        var filter = new PathFilter(null, null, new ListedPaths(["docs/a.txt", "photos/2024", "top.txt"]));

        Assert.True(filter.IncludesFile("docs/a.txt"));
        Assert.True(filter.IncludesFile("top.txt"));
        Assert.True(filter.IncludesDirectory("photos/2024"));
        Assert.True(filter.IncludesDirectory("photos/2024/x"));
        Assert.True(filter.IncludesFile("photos/2024/x/y.jpg"));
        Assert.False(filter.IncludesFile("other.txt"));
        Assert.False(filter.IncludesDirectory("other"));
        Assert.True(filter.IsBelowExcludedDirectory("other/x.txt"));
        Assert.False(filter.IsBelowExcludedDirectory("photos/2024/x/y.jpg"));
    }

    [Fact]
    public void Files_from_walks_the_directories_above_a_listed_path_but_not_their_other_contents()
    {
        var filter = new PathFilter(null, null, new ListedPaths(["docs/a.txt", "photos/2024"]));

        Assert.True(filter.IncludesDirectory("docs"));
        Assert.True(filter.IncludesDirectory("photos"));
        Assert.False(filter.IncludesFile("docs/b.txt"));
        Assert.False(filter.IncludesDirectory("docs/sub"));
        Assert.False(filter.IncludesFile("photos/cover.jpg"));
        Assert.False(filter.IncludesDirectory("photos/2023"));
        Assert.True(filter.IsBelowExcludedDirectory("docs/sub/c.txt"));
        Assert.False(filter.IsBelowExcludedDirectory("docs/a.txt"));
    }

    [Fact]
    public void A_directory_walked_only_for_listed_paths_below_it_does_not_take_part_itself()
    {
        var filter = new PathFilter(null, ["*.tmp"], new ListedPaths(["docs/a.txt", "photos/2024"]));

        Assert.False(filter.IncludesDirectoryItself("docs"));
        Assert.False(filter.IncludesDirectoryItself("photos"));
        Assert.True(filter.IncludesDirectoryItself("photos/2024"));
        Assert.True(filter.IncludesDirectoryItself("photos/2024/x"));
        Assert.False(filter.IncludesDirectoryItself("photos/2024/x.tmp"));
        Assert.True(new PathFilter(null, ["*.tmp"]).IncludesDirectoryItself("docs"));
        Assert.False(new PathFilter(null, ["*.tmp"]).IncludesDirectoryItself("docs/x.tmp"));
    }

    [Theory]
    [InlineData("photos/2024-old/x.jpg")]
    [InlineData("photos/2024.txt")]
    [InlineData("photos/202")]
    [InlineData("docs/a.txt.bak")]
    public void Files_from_does_not_take_a_name_that_starts_like_a_listed_one(string path)
    {
        var filter = new PathFilter(null, null, new ListedPaths(["docs/a.txt", "photos/2024"]));

        Assert.False(filter.IncludesFile(path));
        Assert.False(filter.IncludesDirectory(path));
    }

    [Fact]
    public void Files_from_strips_a_leading_slash_or_dot_slash_a_trailing_slash_and_empty_or_dot_names()
    {
        var listed = new ListedPaths(["/a.txt", "./b/", ".//c//./d", "/./e/"]);

        Assert.True(listed.Covers("a.txt"));
        Assert.True(listed.Covers("b/x"));
        Assert.True(listed.Covers("c/d"));
        Assert.True(listed.IsAncestorOfListed("c"));
        Assert.True(listed.Covers("e"));
        Assert.False(listed.Covers("c"));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("./")]
    [InlineData("/")]
    public void Files_from_listing_the_top_takes_in_the_whole_tree(string top)
    {
        var filter = new PathFilter(null, null, new ListedPaths([top]));

        Assert.True(filter.IncludesFile("a/b/c"));
        Assert.True(filter.IncludesDirectory("a/b"));
    }

    [Fact]
    public void An_empty_files_from_list_takes_in_nothing()
    {
        var filter = new PathFilter(null, null, new ListedPaths([]));

        Assert.False(filter.IncludesFile("a"));
        Assert.False(filter.IncludesDirectory("a"));
    }

    [Fact]
    public void Include_and_exclude_still_apply_to_listed_paths_and_below_them()
    {
        var filter = new PathFilter(["keep.tmp"], ["*.tmp", "cache"], new ListedPaths(["docs", "x.tmp", "keep.tmp", "docs/cache/a.txt"]));

        Assert.False(filter.IncludesFile("x.tmp"));
        Assert.True(filter.IncludesFile("keep.tmp"));
        Assert.False(filter.IncludesFile("docs/y.tmp"));
        Assert.True(filter.IncludesFile("docs/y.txt"));
        Assert.False(filter.IncludesDirectory("docs/cache"));
        Assert.True(filter.IsBelowExcludedDirectory("docs/cache/a.txt"));
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("a/..")]
    [InlineData("C:/Windows")]
    [InlineData("a\\b")]
    [InlineData("a/\u0007")]
    public void Files_from_refuses_a_path_that_could_escape_the_tree_or_cannot_be_a_remote_name(string path)
    {
        var error = Assert.Throws<FormatException>(() => new ListedPaths(["fine.txt", path]));

        Assert.StartsWith($"'{RemotePath.Escape(path)}': ", error.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task A_list_file_skips_blank_lines_and_lines_starting_with_hash_or_semicolon()
    {
        using var reader = new StringReader("# a comment\n; another\n\n   \n*.o\n #not a comment\n cache/ \n;x\n#\n");

        var entries = await FilterFile.ReadEntriesAsync(reader, TestContext.Current.CancellationToken);

        Assert.Equal(["*.o", " #not a comment", " cache/ "], entries);
    }

    [Fact(Timeout = 60000)]
    public async Task A_list_file_written_on_windows_reads_without_its_carriage_returns()
    {
        using var reader = new StringReader("# backup list\r\n*.tmp\r\n\r\ncache/\r\nlast");

        var entries = await FilterFile.ReadEntriesAsync(reader, TestContext.Current.CancellationToken);

        Assert.Equal(["*.tmp", "cache/", "last"], entries);
    }

    [Theory]
    [InlineData("+ *.txt", false, "*.txt", true)]
    [InlineData("- cache/", true, "cache/", false)]
    [InlineData("*.o", false, "*.o", false)]
    [InlineData("*.o", true, "*.o", true)]
    [InlineData("+x", false, "+x", false)]
    [InlineData("- - odd", true, "- odd", false)]
    public void A_pattern_line_may_say_include_or_exclude_as_rsync_rules_do(string line, bool fromIncludeFile, string pattern, bool include) =>
        Assert.Equal((pattern, include), FilterFile.ParseRule(line, fromIncludeFile));

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void A_blank_pattern_is_refused(string pattern)
    {
        Assert.ThrowsAny<ArgumentException>(() => new PathFilter([pattern], null));
        Assert.ThrowsAny<ArgumentException>(() => new PathFilter(null, [pattern]));
    }

    /// <summary>True when <paramref name="pattern"/>, given to --exclude, leaves out the file at <paramref name="path"/>.</summary>
    private static bool Excludes(string pattern, string path) => !new PathFilter(null, [pattern]).IncludesFile(path);
}
