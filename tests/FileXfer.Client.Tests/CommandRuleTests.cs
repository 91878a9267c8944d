namespace FileXfer.Client.Tests;

/// <summary>
/// A line that breaks a rule of its command (values that do not go together) is refused by the parser: one line, exit 2,
/// no pointer to --help, and nothing is connected to (the server named here does not exist).
/// </summary>
public class CommandRuleTests
{
    [Theory(Timeout = 60000)]
    [InlineData("put --checksum a b", "--checksum needs -r")]
    [InlineData("put --delete a b", "--delete needs -r")]
    [InlineData("put - dir/", "put - needs a remote file name, not a directory")]
    [InlineData("get -P 2 a b", "--parallel needs -r")]
    [InlineData("get --json a -", "--json cannot share standard output with the file's bytes")]
    [InlineData("get -r a -", "get -r needs a local directory, not standard output")]
    [InlineData("verify a", "verify takes LOCAL and REMOTE (or --sums FILE REMOTEDIR)")]
    [InlineData("verify --sums sums.txt a b", "verify --sums FILE takes one REMOTEDIR")]
    [InlineData("verify --exclude x a b", "--exclude needs -r")]
    [InlineData("hash -r a b", "hash -r takes one remote directory")]
    public async Task A_broken_rule_is_one_usage_line_before_anything_connects(string line, string message)
    {
        var run = await CliRunner.RunAsync(["--server", "127.0.0.1:1", "--retries", "0", .. line.Split(' ')], TestContext.Current.CancellationToken);

        Assert.Equal($"filexfer: {message}", CliAssert.OneErrorLine(run, 2));
        Assert.Empty(run.Stdout);
    }
}
