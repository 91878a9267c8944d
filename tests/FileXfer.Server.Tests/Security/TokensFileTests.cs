using System.Text;
using FileXfer.Server.Security;

namespace FileXfer.Server.Tests.Security;

/// <summary>The tokens file: its format, what it refuses (naming file and line), and its permissions.</summary>
public sealed class TokensFileTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Comments_blank_lines_access_words_and_subtrees_are_read()
    {
        var entries = TokensFile.Parse("""
            # backups
            alice rw 0123456789abcdef0123

              bob	ro	bob-secret-bob-secret   # not a comment: a fourth word would fail, so none here
            """.Replace("   # not a comment: a fourth word would fail, so none here", string.Empty, StringComparison.Ordinal)
            + "\nhost-1.example ro:/backups/host1 host1-secret-0123456\nhost_2 rw:/backups/host2/ host2-secret-0123456\r\n", "tokens");

        Assert.Equal(["alice", "bob", "host-1.example", "host_2"], entries.Select(e => e.Name));
        Assert.Equal([TokenAccess.ReadWrite, TokenAccess.ReadOnly, TokenAccess.ReadOnly, TokenAccess.ReadWrite], entries.Select(e => e.Access));
        Assert.Equal(["", "", "backups/host1", "backups/host2"], entries.Select(e => e.Subtree));
        Assert.Equal(Encoding.UTF8.GetBytes("bob-secret-bob-secret"), entries[1].Secret);
        Assert.DoesNotContain("secret", entries[1].ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alice rw", "line 2: expected NAME ACCESS SECRET")]
    [InlineData("alice rw secret-secret-secret extra", "line 2: expected NAME ACCESS SECRET")]
    [InlineData("alice admin secret-secret-secret", "line 2: access must be ro or rw")]
    [InlineData("alice rw:backups secret-secret-secret", "line 2: subtree 'backups' must be an absolute remote path")]
    [InlineData("alice rw:/a/../b secret-secret-secret", "line 2: subtree '/a/../b' must be an absolute remote path")]
    [InlineData("alice ro:/.filexfer/staging secret-secret-secret", "line 2: subtree '/.filexfer/staging' is inside the server's reserved folder")]
    [InlineData("al:ice rw secret-secret-secret", "line 2: token name 'al:ice' must be")]
    [InlineData("alice rw short", "line 2: the secret of 'alice' is shorter than 16 characters")]
    public void A_malformed_line_is_refused_naming_the_file_and_the_line(string line, string expected)
    {
        var error = Assert.Throws<TokensFileException>(() => TokensFile.Parse("# first\n" + line + "\n", "/etc/fx/tokens"));

        Assert.StartsWith("tokens file '/etc/fx/tokens' ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_secret_is_not_echoed_in_the_error()
    {
        var error = Assert.Throws<TokensFileException>(() => TokensFile.Parse("alice rw sekrit-shorty\n", "tokens"));

        Assert.DoesNotContain("sekrit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_longer_than_64_characters_is_refused()
    {
        var error = Assert.Throws<TokensFileException>(() => TokensFile.Parse(new string('a', 65) + " rw secret-secret-secret\n", "tokens"));

        Assert.Contains("line 1", error.Message, StringComparison.Ordinal);
        Assert.Single(TokensFile.Parse(new string('a', 64) + " rw secret-secret-secret\n", "tokens"));
    }

    [Fact]
    public void A_duplicate_name_is_refused_on_its_second_line()
    {
        var error = Assert.Throws<TokensFileException>(() => TokensFile.Parse("alice rw secret-secret-secret\n\nalice ro other-secret-secret\n", "tokens"));

        Assert.Contains("line 3: token name 'alice' appears twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_readable_by_group_or_others_is_refused_and_mode_600_is_accepted()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix permissions");
        var path = _directory.Combine("tokens");
        File.WriteAllText(path, "alice rw secret-secret-secret\n");

        foreach (var mode in new[] { UnixFileMode.GroupRead, UnixFileMode.OtherRead, UnixFileMode.GroupWrite, UnixFileMode.OtherWrite })
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | mode);
            var error = Assert.Throws<TokensFileException>(() => TokensFile.Load(path));
            Assert.Contains($"tokens file '{path}' is readable or writable by group or others", error.Message, StringComparison.Ordinal);
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal("alice", Assert.Single(TokensFile.Load(path)).Name);
    }

    [Fact]
    public void A_missing_file_is_refused_with_its_name()
    {
        var path = _directory.Combine("absent");

        var error = Assert.Throws<TokensFileException>(() => TokensFile.Load(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
