using FileXfer.Client.Sync;

namespace FileXfer.Client.Tests;

/// <summary>Unit tests of <see cref="PathFilter"/>: the glob rules the README documents for --include and --exclude.</summary>
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
        var filter = new PathFilter(null, ["a+b (1).txt", "[x].md", "^$.{2}"]);

        Assert.False(filter.IncludesFile("a+b (1).txt"));
        Assert.True(filter.IncludesFile("aab (1).txt"));
        Assert.True(filter.IncludesFile("aab 1.txt"));
        Assert.False(filter.IncludesFile("[x].md"));
        Assert.True(filter.IncludesFile("x.md"));
        Assert.False(filter.IncludesFile("^$.{2}"));
        Assert.True(filter.IncludesFile("^$xx"));
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
    public void A_pattern_without_a_trailing_slash_leaves_out_files_not_directories()
    {
        var filter = new PathFilter(null, ["*"]);

        Assert.False(filter.IncludesFile("anything"));
        Assert.True(filter.IncludesDirectory("anything"));
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
        Assert.True(filter.IncludesDirectory("other"));
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

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public void A_blank_pattern_is_refused(string pattern)
    {
        Assert.ThrowsAny<ArgumentException>(() => new PathFilter([pattern], null));
        Assert.ThrowsAny<ArgumentException>(() => new PathFilter(null, [pattern]));
    }
}
