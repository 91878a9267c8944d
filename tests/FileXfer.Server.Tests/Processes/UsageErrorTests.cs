namespace FileXfer.Server.Tests.Processes;

/// <summary>
/// Bad command lines of the <c>filexfer-server</c> process: exit 2 (usage error, as documented) with one
/// <c>filexfer-server: …</c> line per error on stderr and nothing on stdout, not the parser's text and help; while
/// <c>--help</c> and <c>--version</c> still print and exit 0.
/// </summary>
public sealed class UsageErrorTests
{
    [Theory(Timeout = 60000)]
    [InlineData(new[] { "--bogus", "--root", "." }, "filexfer-server: unrecognized command or argument '--bogus' (see filexfer-server --help)")]
    [InlineData(new[] { "token", "new", "x", "--access", "rx" }, "filexfer-server: argument 'rx' not recognized. Must be one of: 'ro', 'rw' (see filexfer-server token new --help)")]
    [InlineData(new[] { "token", "new" }, "filexfer-server: required argument 'NAME' missing for command: 'new' (see filexfer-server token new --help)")]
    [InlineData(new[] { "--listen", "127.0.0.1:0" }, "filexfer-server: option '--root' is required (see filexfer-server --help)")]
    [InlineData(new[] { "fingerprint", "--root", ".", "extra" }, "filexfer-server: unrecognized command or argument 'extra' (see filexfer-server fingerprint --help)")]
    public async Task A_bad_command_line_exits_2_with_one_line_on_stderr_and_nothing_on_stdout(string[] args, string expected)
    {
        using var server = ServerProcess.Start(args);

        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(2, exitCode);
        Assert.Empty(server.StandardOutput);
        Assert.Equal([expected], server.StandardError);
    }

    [Fact(Timeout = 60000)]
    public async Task Every_error_gets_its_own_line()
    {
        using var server = ServerProcess.Start("--bogus");

        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(2, exitCode);
        Assert.Empty(server.StandardOutput);
        Assert.Equal(
            ["filexfer-server: unrecognized command or argument '--bogus'", "filexfer-server: option '--root' is required (see filexfer-server --help)"],
            server.StandardError);
    }

    [Theory(Timeout = 60000)]
    [InlineData("--help")]
    [InlineData("--version")]
    [InlineData("token", "new", "--help")]
    [InlineData("--root", ".", "--bogus", "--help")]
    public async Task Help_and_version_still_print_on_stdout_and_exit_0(params string[] args)
    {
        using var server = ServerProcess.Start(args);

        int exitCode = await server.WaitForExitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(0, exitCode);
        Assert.Empty(server.StandardError);
        Assert.NotEmpty(server.StandardOutput);
    }
}
