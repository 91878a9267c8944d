using FileXfer.Client.Cli;
using FileXfer.Client.Tests;

namespace FileXfer.S3.Tests;

/// <summary>Runs the <c>filexfer</c> command line in-process against a server, with captured output and an empty environment.</summary>
public static class Cli
{
    public static async Task<CliResult> RunAsync(string address, string[] args, CancellationToken cancellationToken)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var console = new CliConsole(stdout, stderr, IsErrorTerminal: false, _ => null);
        string[] full = args.Contains("--retries") ? ["--server", address, .. args] : ["--server", address, "--retries", "0", .. args];
        int exitCode = await CliApplication.RunAsync(full, console, cancellationToken);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }
}
