using System.CommandLine;
using System.Globalization;
using FileXfer.Client.Resilience;
using FileXfer.Protocol.Net;

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
        HostPort? server = null;
        FileXferClientOptions? options = null;
        try
        {
            server = globals.ResolveServer(result, console);
            options = globals.ClientOptions(result, console, algorithm);
            options.Credential = globals.ResolveCredential(result, console);
            int retries = globals.Retries(result);
            var retry = TransferRetry.Create(retries, TimeProvider.System, async (failure, attempt, delay) =>
                await console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"filexfer: {ErrorReporter.Classify(failure).Message.TrimEnd('.')}; retry {attempt + 1} of {retries} in {delay.TotalSeconds:F1} s")));
            var connectTo = server;
            var connectWith = options;
            return (int)await work(token => FileXferClient.ConnectAsync(connectTo, connectWith, token), options, retry);
        }
        catch (Exception ex)
        {
            return (int)await ErrorReporter.ReportAsync(console, ex);
        }
        finally
        {
            // Not after an interrupt: the user asked for the command to stop now, and its outcome is unknown anyway.
            if (server is not null && options is not null && !cancellationToken.IsCancellationRequested)
            {
                await FenceAbandonedAsync(console, server, options);
            }
        }
    }

    /// <summary>
    /// Before the command exits, declares to the server the connections it gave up on with a request in flight that
    /// no later connection declared yet (a retry on a connection opened before the failure, or no retry at all), so
    /// nothing they carry is carried out after the command reported its result. Costs a connection only then.
    /// </summary>
    private static async Task FenceAbandonedAsync(CliConsole console, HostPort server, FileXferClientOptions options)
    {
        int undeclared = options.Run.Undeclared().Count;
        if (undeclared == 0)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(FenceTimeout, TimeProvider.System);
        try
        {
            await using var declaring = await FileXferClient.ConnectAsync(server, options, deadline.Token);
            // Behind a pipelined Authenticate the declaration counts only once the server answered it.
            await declaring.WhenAuthenticatedAsync(deadline.Token);
        }
        catch (Exception ex) when (ex is ConnectionFailedException or ConnectionLostException or FileXferException or OperationCanceledException or IOException)
        {
            await console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"filexfer: warning: could not tell the server that {undeclared} abandoned connection(s) must not be carried out ({ErrorReporter.Classify(ex).Message.TrimEnd('.')}); a request they carried may still take effect until the server notices them gone"));
        }
    }

    /// <summary>How long the declaration of abandoned connections may take before the command exits without it.</summary>
    private static readonly TimeSpan FenceTimeout = TimeSpan.FromSeconds(5);
}
