using System.CommandLine;
using FileXfer.Client.Cli.Commands;

namespace FileXfer.Client.Cli;

/// <summary>The <c>filexfer</c> command line: builds the commands and runs one invocation.</summary>
public static class CliApplication
{
    internal const string ExitCodesHelp = """
        Exit codes:
          0  success, every transfer verified
          1  unexpected error
          2  usage error (bad arguments, invalid remote path)
          3  cannot connect to the server, or the connection was lost
          4  integrity check failed (hash mismatch)
          5  not found
          6  permission or authentication denied
          7  some files of a batch failed (the rest were transferred)
        """;

    /// <summary>Builds the root command with all subcommands.</summary>
    public static RootCommand CreateRootCommand(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var globals = new GlobalOptions();
        var root = new RootCommand("FileXfer client: verified file transfer to and from a filexfer-server.\n\n" + ExitCodesHelp)
        {
            globals.Server,
            globals.Quiet,
            globals.ConnectTimeout,
            PutCommand.Create(console, globals),
            GetCommand.Create(console, globals),
            ListCommand.Create(console, globals),
            StatCommand.Create(console, globals),
            RemoveCommand.Create(console, globals),
            HashCommand.Create(console, globals),
            VerifyCommand.Create(console, globals),
        };
        return root;
    }

    /// <summary>Parses and runs one command line; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(console);
        var root = CreateRootCommand(console);
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var error in result.Errors)
            {
                await console.Error.WriteLineAsync($"filexfer: {error.Message}");
            }

            await console.Error.WriteLineAsync("Try 'filexfer --help' for more information.");
            return (int)ExitCode.Usage;
        }

        var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error };
        return await result.InvokeAsync(configuration, cancellationToken);
    }
}
