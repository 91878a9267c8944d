using FileXfer.Client.Cli;

namespace FileXfer.Client.Tests;

/// <summary>
/// Which command lines are parsed without the root command's --help and --version (the quick start of a plain
/// command), and that such a line fails exactly as it would with them.
/// </summary>
public class CommandLineParsingTests
{
    [Theory]
    [InlineData(new[] { "put", "a", "b" }, false)]
    [InlineData(new[] { "-q", "-s", "127.0.0.1:7070", "put", "a", "b" }, false)]
    [InlineData(new[] { "get", "--", "-x", "y" }, false)]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "--help" }, true)]
    [InlineData(new[] { "put", "-h" }, true)]
    [InlineData(new[] { "put", "-?" }, true)]
    [InlineData(new[] { "/?" }, true)]
    [InlineData(new[] { "--version" }, true)]
    [InlineData(new[] { "@args.rsp" }, true)]
    [InlineData(new[] { "[suggest]", "put" }, true)]
    [InlineData(new[] { "filexfer", "put", "a", "b" }, true)]
    public void Help_version_response_files_and_directives_need_the_root_command(string[] args, bool expected) =>
        Assert.Equal(expected, CliApplication.NeedsRootCommand(args));

    [Theory(Timeout = 60000)]
    [InlineData("put", "a")]
    [InlineData("put", "--bogus", "a", "b")]
    [InlineData("puut", "a", "b")]
    [InlineData("--retries", "x", "put", "a", "b")]
    public async Task A_line_that_does_not_parse_is_a_usage_error_with_the_parser_s_messages(params string[] args)
    {
        var result = await CliRunner.RunAsync(args, TestContext.Current.CancellationToken);

        Assert.Equal((int)ExitCode.Usage, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.True(result.StderrLines.Length >= 2);
        Assert.All(result.StderrLines[..^1], line => Assert.StartsWith("filexfer: ", line, StringComparison.Ordinal));
        Assert.Equal("Try 'filexfer --help' for more information.", result.StderrLines[^1]);
    }
}
