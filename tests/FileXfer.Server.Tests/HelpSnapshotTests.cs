using System.CommandLine;
using System.CommandLine.Help;
using Snapshooter.Xunit3;

namespace FileXfer.Server.Tests;

/// <summary>The server's help text, pinned by a snapshot so that a change to it is a reviewed change.</summary>
/// <remarks>
/// As for the client's (FileXfer.Client.Tests' HelpSnapshotTests): in-process, System.CommandLine names the program after
/// the test host and wraps at the test process's console, so the name users see and 100 columns are pinned here, and the
/// spaces the wrapper leaves at the ends of lines are trimmed.
/// </remarks>
public class HelpSnapshotTests
{
    private const int Width = 100;

    [Fact(Timeout = 60000)]
    public async Task Server_help()
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var root = ServerCommand.Create(stdout, stderr);
        root.HelpName = "filexfer-server";
        var help = root.Options.OfType<HelpOption>().Single();
        ((HelpAction)help.Action!).MaxWidth = Width;

        int exitCode = await root.Parse(["--help"]).InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, TestContext.Current.CancellationToken);
        var text = string.Join('\n', stdout.ToString().Split('\n').Select(line => line.TrimEnd()));

        Assert.Equal(0, exitCode);
        Assert.Empty(stderr.ToString());
        // The options an operator tunes a crowded or slow server with, and what --max-connections does when full.
        Assert.Contains("--handshake-timeout", text, StringComparison.Ordinal);
        Assert.Contains("--eviction-age", text, StringComparison.Ordinal);
        Snapshot.Match(text);
    }
}
