using FileXfer.Protocol.Paths;

namespace FileXfer.Protocol.Tests;

/// <summary>The remote path rules both sides share.</summary>
public class RemotePathTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("/", "")]
    [InlineData("a", "a")]
    [InlineData("/a", "a")]
    [InlineData("a/", "a")]
    [InlineData("/a/", "a")]
    [InlineData("a/b/", "a/b")]
    [InlineData("/a/b/c.txt", "a/b/c.txt")]
    [InlineData("文档/报告.txt", "文档/报告.txt")]
    [InlineData("😀/🎉.png", "😀/🎉.png")]
    [InlineData("my files/a b.txt", "my files/a b.txt")]
    [InlineData(" leading and trailing ", " leading and trailing ")]
    [InlineData(".hidden/...", ".hidden/...")]
    [InlineData("a..b/..c/d..", "a..b/..c/d..")]
    [InlineData("naïve/Ünïcödé", "naïve/Ünïcödé")]
    [InlineData("ab:c", "ab:c")]
    [InlineData("1:2", "1:2")]
    public void Accepted_paths_are_normalized(string path, string expected)
    {
        Assert.True(RemotePath.TryNormalize(path, out var normalized, out var error), error);
        Assert.Equal(expected, normalized);
        Assert.Null(error);
        Assert.Equal(expected, RemotePath.Normalize(path));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("/..")]
    [InlineData("../a")]
    [InlineData("a/..")]
    [InlineData("a/../b")]
    [InlineData("./a")]
    [InlineData("a/./b")]
    [InlineData("a//b")]
    [InlineData("//a")]
    [InlineData("a//")]
    [InlineData("a\\b")]
    [InlineData("..\\x")]
    [InlineData("\\")]
    [InlineData("C:foo")]
    [InlineData("c:\\x")]
    [InlineData("C:")]
    [InlineData("a/z:/b")]
    [InlineData("a\tb")]
    [InlineData("a\nb")]
    [InlineData("a\rb")]
    [InlineData("\u0001")]
    [InlineData("a/\u001b[31m")]
    [InlineData("a\0b")]
    [InlineData("\0")]
    [InlineData("\u007f")]
    [InlineData("a\u0085b")]
    [InlineData("a\u009fb")]
    [InlineData("x:y")]
    public void Refused_paths(string path)
    {
        Assert.False(RemotePath.TryNormalize(path, out var normalized, out var error));
        Assert.Equal(RemotePath.Root, normalized);
        Assert.False(string.IsNullOrEmpty(error));

        var exception = Assert.Throws<FileXferException>(() => RemotePath.Normalize(path));
        Assert.Equal(ErrorCode.InvalidPath, exception.Code);
    }

    [Fact]
    public void Lone_surrogates_are_refused()
    {
        // Built in code: attribute arguments cannot carry unpaired surrogates (metadata stores UTF-8).
        string[] paths = ["\ud800", "a\udc00b", "x/\ude00\ud83d", "ok/\ud83d", "\ud83d\ude00\ud83d"];

        foreach (var path in paths)
        {
            Assert.False(RemotePath.TryNormalize(path, out _, out var error), RemotePath.Escape(path));
            Assert.Contains("Unicode", error, StringComparison.Ordinal);
            Assert.Equal(ErrorCode.InvalidPath, Assert.Throws<FileXferException>(() => RemotePath.Normalize(path)).Code);
        }

        Assert.False(RemotePath.IsValidName("\ud83d", out _));
        Assert.True(RemotePath.IsValidName("\ud83d\ude00", out _));
    }

    [Fact]
    public void A_missing_path_is_refused()
    {
        Assert.False(RemotePath.TryNormalize(null, out _, out var error));
        Assert.Equal("path is missing", error);
        Assert.Equal(ErrorCode.InvalidPath, Assert.Throws<FileXferException>(() => RemotePath.Normalize(null)).Code);
    }

    [Fact]
    public void Names_up_to_255_bytes_are_accepted_and_256_refused()
    {
        Assert.True(RemotePath.TryNormalize(new string('n', 255), out _, out _));
        Assert.True(RemotePath.TryNormalize("dir/" + new string('n', 255), out _, out _));
        Assert.False(RemotePath.TryNormalize(new string('n', 256), out _, out var error));
        Assert.Contains("256 bytes", error, StringComparison.Ordinal);
        Assert.False(RemotePath.TryNormalize("dir/" + new string('n', 256) + "/x", out _, out _));
    }

    [Fact]
    public void Name_length_is_counted_in_UTF8_bytes()
    {
        // 85 three-byte characters are 255 bytes; 86 are 258. 63 emoji are 252 bytes; 64 are 256.
        Assert.True(RemotePath.TryNormalize(new string('数', 85), out _, out _));
        Assert.False(RemotePath.TryNormalize(new string('数', 86), out _, out _));
        Assert.True(RemotePath.TryNormalize(string.Concat(Enumerable.Repeat("😀", 63)), out _, out _));
        Assert.False(RemotePath.TryNormalize(string.Concat(Enumerable.Repeat("😀", 64)), out _, out _));
    }

    [Fact]
    public void Paths_up_to_4096_bytes_are_accepted_and_longer_refused()
    {
        // 64 components of 63 bytes and 63 slashes: 4095 bytes; one more byte makes 4096, two make 4097.
        var components = Enumerable.Repeat(new string('p', 63), 64).ToArray();
        var path4095 = string.Join('/', components);
        Assert.Equal(4095, path4095.Length);

        Assert.True(RemotePath.TryNormalize(path4095 + "q", out var normalized, out var error), error);
        Assert.Equal(4096, normalized.Length);
        Assert.False(RemotePath.TryNormalize(path4095 + "qq", out _, out error));
        Assert.Contains("4097 bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Paths_of_64_components_are_accepted_and_65_refused()
    {
        var sixtyFour = string.Join('/', Enumerable.Repeat("d", 64));
        var sixtyFive = string.Join('/', Enumerable.Repeat("d", 65));

        Assert.True(RemotePath.TryNormalize(sixtyFour, out _, out _));
        Assert.True(RemotePath.TryNormalize("/" + sixtyFour + "/", out _, out _));
        Assert.False(RemotePath.TryNormalize(sixtyFive, out _, out var error));
        Assert.Contains("deeper than 64", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("a.txt", true)]
    [InlineData("", false)]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("a\\b", false)]
    [InlineData("D:", false)]
    [InlineData("\u007f", false)]
    public void IsValidName_checks_one_component(string name, bool valid)
    {
        Assert.Equal(valid, RemotePath.IsValidName(name, out var error));
        Assert.Equal(valid, error is null);
    }

    [Theory]
    [InlineData("", "a", "a")]
    [InlineData("d", "a", "d/a")]
    [InlineData("d/e", "文", "d/e/文")]
    public void Combine_joins_a_directory_and_a_name(string directory, string name, string expected)
    {
        Assert.Equal(expected, RemotePath.Combine(directory, name));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("a", "a")]
    [InlineData("a/b/c.txt", "c.txt")]
    public void GetName_is_the_last_component(string normalized, string expected)
    {
        Assert.Equal(expected, RemotePath.GetName(normalized));
    }

    [Theory]
    [InlineData("plain.txt", "plain.txt")]
    [InlineData("a\nb", "a\\nb")]
    [InlineData("a\rb", "a\\rb")]
    [InlineData("a\tb", "a\\tb")]
    [InlineData("a\\b", "a\\\\b")]
    [InlineData("\0", "\\u0000")]
    [InlineData("\u0001\u001b[2J", "\\u0001\\u001b[2J")]
    [InlineData("\u007f", "\\u007f")]
    [InlineData("\u0085", "\\u0085")]
    [InlineData("😀 文档 é", "😀 文档 é")]
    [InlineData("x\uFFFDy", "x\\ufffdy")]
    public void Escape_makes_control_characters_backslashes_and_lone_surrogates_visible(string value, string expected)
    {
        var escaped = RemotePath.Escape(value);

        Assert.Equal(expected, escaped);
        Assert.DoesNotContain(escaped, char.IsControl);
    }

    [Fact]
    public void Escape_shows_lone_surrogates_as_escapes_and_keeps_pairs()
    {
        Assert.Equal("\\ud800x", RemotePath.Escape("\ud800x"));
        Assert.Equal("x\\udc00", RemotePath.Escape("x\udc00"));
        Assert.Equal("\\udc00\\ud800", RemotePath.Escape("\udc00\ud800"));
        Assert.Equal("\ud83d\ude00\\ud83d", RemotePath.Escape("\ud83d\ude00\ud83d"));
    }

    [Theory]
    [InlineData("'a\\u001b[31m' not found", "'a\\u001b[31m' not found")]
    [InlineData("raw \u001b[31m red", "raw \\u001b[31m red")]
    [InlineData("line\nbreak", "line\\nbreak")]
    public void EscapeMessage_neutralises_control_characters_but_keeps_the_senders_escapes(string message, string expected)
    {
        Assert.Equal(expected, RemotePath.EscapeMessage(message));
    }

    [Fact]
    public void Escape_refuses_null()
    {
        Assert.Throws<ArgumentNullException>(() => RemotePath.Escape(null!));
    }

    [Fact]
    public void The_error_for_a_refused_path_shows_it_escaped()
    {
        var exception = Assert.Throws<FileXferException>(() => RemotePath.Normalize("evil\n../x"));

        Assert.DoesNotContain('\n', exception.Message);
        Assert.Contains("evil\\n../x", exception.Message, StringComparison.Ordinal);
    }
}
