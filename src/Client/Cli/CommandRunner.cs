using System.CommandLine;

namespace FileXfer.Client.Cli;

/// <summary>Connects, runs one command's work, and maps every failure to a line on stderr and an exit code.</summary>
internal static class CommandRunner
{
    public static async Task<int> RunAsync(
        CliConsole console,
        GlobalOptions globals,
        ParseResult result,
        string? algorithm,
        Func<FileXferClient, Task<ExitCode>> work,
        CancellationToken cancellationToken)
    {
        try
        {
            var server = globals.ResolveServer(result, console);
            var options = globals.ClientOptions(result, algorithm);
            await using var client = await FileXferClient.ConnectAsync(server, options, cancellationToken);
            return (int)await work(client);
        }
        catch (Exception ex)
        {
            return (int)await ErrorReporter.ReportAsync(console, ex);
        }
    }
}
