using System.CommandLine;
using System.CommandLine.Help;
using FileXfer.Client.Cli;
using Snapshooter.Xunit3;

namespace FileXfer.Client.Tests;

/// <summary>The help text, pinned by snapshots so that a change to it is a reviewed change.</summary>
/// <remarks>
/// Run in-process, System.CommandLine names the program after the host (the test assembly) and wraps at the width of
/// the test process's own console, so both are pinned here: the name users see, and 100 columns. The wrapper leaves
/// spaces at the ends of wrapped lines; they are trimmed so that an editor trimming the snapshot cannot break it.
/// </remarks>
public class HelpSnapshotTests
{
    private const int Width = 100;

    [Fact(Timeout = 60000)]
    public async Task Root_help()
    {
        var (exitCode, stdout, stderr) = await RunHelpAsync(["--help"], TestContext.Current.CancellationToken);

        Assert.Equal(0, exitCode);
        Assert.Empty(stderr);
        Snapshot.Match(stdout);
    }

    [Fact(Timeout = 60000)]
    public async Task Put_help()
    {
        var (exitCode, stdout, stderr) = await RunHelpAsync(["put", "--help"], TestContext.Current.CancellationToken);

        Assert.Equal(0, exitCode);
        Assert.Empty(stderr);
        Snapshot.Match(stdout);
    }

    [Fact(Timeout = 60000)]
    public async Task Help_through_the_application_entry_point_succeeds_and_mentions_every_command()
    {
        var result = await CliRunner.RunAsync(["--help"], TestContext.Current.CancellationToken);

        CliAssert.Success(result);
        foreach (var command in new[] { "put", "get", "ls", "stat", "rm", "hash" })
        {
            Assert.Contains($"\n  {command} ", result.Stdout, StringComparison.Ordinal);
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunHelpAsync(string[] args, CancellationToken cancellationToken)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var console = new CliConsole(stdout, stderr, IsErrorTerminal: false, _ => null);
        var root = CliApplication.CreateRootCommand(console);
        root.HelpName = "filexfer";
        var help = root.Options.OfType<HelpOption>().Single();
        ((HelpAction)help.Action!).MaxWidth = Width;

        int exitCode = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, cancellationToken);
        var text = string.Join('\n', stdout.ToString().Split('\n').Select(line => line.TrimEnd()));
        return (exitCode, text, stderr.ToString());
    }
}
