using FileXfer.Client.Cli;

namespace FileXfer.Client.Tests;

/// <summary>Runs the <c>filexfer</c> command line in-process with captured output and a fake environment.</summary>
public static class CliRunner
{
    /// <summary>
    /// Runs <paramref name="args"/>. Only <paramref name="environment"/> is visible as environment variables, so the
    /// machine's own <c>FILEXFER_SERVER</c> cannot leak in.
    /// </summary>
    public static Task<CliResult> RunAsync(
        string[] args,
        IReadOnlyDictionary<string, string>? environment,
        bool isErrorTerminal,
        CancellationToken cancellationToken) =>
        RunCoreAsync(args, environment, isErrorTerminal, configure: null, cancellationToken);

    /// <summary>
    /// Runs a command against <paramref name="server"/> with standard input and standard output as byte streams
    /// (for <c>put -</c> and <c>get REMOTE -</c>); the text written to stdout is still captured apart.
    /// </summary>
    public static Task<CliResult> RunWithStreamsAsync(TestServer server, string[] args, Stream standardInput, Stream standardOutput, CancellationToken cancellationToken) =>
        RunCoreAsync(
            ["--server", server.Address, .. args],
            environment: null,
            isErrorTerminal: false,
            console => console with { OpenStandardInput = () => standardInput, OpenStandardOutput = () => standardOutput },
            cancellationToken);

    /// <summary>Runs <paramref name="args"/> with an empty environment and stderr not a terminal.</summary>
    public static Task<CliResult> RunAsync(string[] args, CancellationToken cancellationToken) =>
        RunAsync(args, environment: null, isErrorTerminal: false, cancellationToken);

    /// <summary>Runs a command against <paramref name="server"/>, given with <c>--server</c>.</summary>
    public static Task<CliResult> RunAsync(TestServer server, string[] args, CancellationToken cancellationToken) =>
        RunAsync(server.Address, args, cancellationToken);

    /// <summary>Runs a command against an address given with <c>--server</c>.</summary>
    public static Task<CliResult> RunAsync(string address, string[] args, CancellationToken cancellationToken) =>
        RunAsync(["--server", address, .. args], cancellationToken);

    private static async Task<CliResult> RunCoreAsync(
        string[] args,
        IReadOnlyDictionary<string, string>? environment,
        bool isErrorTerminal,
        Func<CliConsole, CliConsole>? configure,
        CancellationToken cancellationToken)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var console = new CliConsole(stdout, stderr, isErrorTerminal, name => environment?.GetValueOrDefault(name));

        // One attempt unless a test asks for retries: a failure shows at once, with its own exit code and message.
        if (!args.Contains("--retries") && args.Length > 0 && !args[0].StartsWith("--help", StringComparison.Ordinal) && args[0] is not ("-h" or "-?" or "--version"))
        {
            args = ["--retries", "0", .. args];
        }

        int exitCode = await CliApplication.RunAsync(args, configure?.Invoke(console) ?? console, cancellationToken);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }
}
