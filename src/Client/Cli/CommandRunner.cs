using System.CommandLine;

namespace FileXfer.Client.Cli;

/// <summary>Resolves the server and client settings, runs one command's work, and maps every failure to a line on stderr and an exit code.</summary>
internal static class CommandRunner
{
    /// <summary>Runs work that needs one connection.</summary>
    public static Task<int> RunAsync(
        CliConsole console,
        GlobalOptions globals,
        ParseResult result,
        string? algorithm,
        Func<FileXferClient, Task<ExitCode>> work,
        CancellationToken cancellationToken) =>
        RunAsync(console, globals, result, algorithm, async (connect, _) =>
        {
            await using var client = await connect(cancellationToken);
            return await work(client);
        }, cancellationToken);

    /// <summary>Runs work that opens its own connections (tree transfers open several).</summary>
    public static async Task<int> RunAsync(
        CliConsole console,
        GlobalOptions globals,
        ParseResult result,
        string? algorithm,
        Func<Func<CancellationToken, Task<FileXferClient>>, FileXferClientOptions, Task<ExitCode>> work,
        CancellationToken cancellationToken)
    {
        try
        {
            var server = globals.ResolveServer(result, console);
            var options = globals.ClientOptions(result, algorithm);
            return (int)await work(token => FileXferClient.ConnectAsync(server, options, token), options);
        }
        catch (Exception ex)
        {
            return (int)await ErrorReporter.ReportAsync(console, ex);
        }
    }
}
