using System.CommandLine;
using System.Globalization;
using FileXfer.Client.Resilience;

namespace FileXfer.Client.Cli;

/// <summary>
/// Resolves the server, the client settings and the retry pipeline, runs one command's work, and maps every
/// failure to a line on stderr and an exit code.
/// </summary>
internal static class CommandRunner
{
    /// <summary>Runs work that needs one connection; a transient failure reconnects and runs it again.</summary>
    public static Task<int> RunAsync(
        CliConsole console,
        GlobalOptions globals,
        ParseResult result,
        string? algorithm,
        Func<FileXferClient, Task<ExitCode>> work,
        CancellationToken cancellationToken) =>
        RunAsync(console, globals, result, algorithm, (connect, _, retry) => retry.ExecuteAsync(async token =>
        {
            await using var client = await connect(token);
            return await work(client);
        }, cancellationToken).AsTask(), cancellationToken);

    /// <summary>Runs work that opens its own connections and decides itself what to retry.</summary>
    public static async Task<int> RunAsync(
        CliConsole console,
        GlobalOptions globals,
        ParseResult result,
        string? algorithm,
        Func<Func<CancellationToken, Task<FileXferClient>>, FileXferClientOptions, TransferRetry, Task<ExitCode>> work,
        CancellationToken cancellationToken)
    {
        try
        {
            var server = globals.ResolveServer(result, console);
            var options = globals.ClientOptions(result, console, algorithm);
            options.Credential = globals.ResolveCredential(result, console);
            int retries = globals.Retries(result);
            var retry = TransferRetry.Create(retries, TimeProvider.System, async (failure, attempt, delay) =>
                await console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"filexfer: {ErrorReporter.Classify(failure).Message.TrimEnd('.')}; retry {attempt + 1} of {retries} in {delay.TotalSeconds:F1} s")));
            return (int)await work(token => FileXferClient.ConnectAsync(server, options, token), options, retry);
        }
        catch (Exception ex)
        {
            return (int)await ErrorReporter.ReportAsync(console, ex);
        }
    }
}
