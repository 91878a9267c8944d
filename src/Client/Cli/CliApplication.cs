using System.CommandLine;
using System.CommandLine.Parsing;
using FileXfer.Client.Cli.Commands;

namespace FileXfer.Client.Cli;

/// <summary>The <c>filexfer</c> command line: builds the commands and runs one invocation.</summary>
public static class CliApplication
{
    internal const string ExitCodesHelp = """
        Exit codes:
          0  success, every transfer verified
          1  unexpected error
          2  usage error (bad arguments, invalid remote path, unknown hash algorithm,
             a directory where a file is needed or the reverse)
          3  cannot connect to the server, or the connection was lost
          4  integrity check failed (hash mismatch)
          5  not found (remote or local)
          6  permission or authentication denied (also a TLS certificate not trusted)
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
            globals.TokenFile,
            globals.Quiet,
            globals.ConnectTimeout,
            globals.RetriesOption,
            globals.Timeout,
            globals.Tls,
            globals.Pin,
            globals.KnownHosts,
            globals.TlsNoTofu,
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
        var errors = result.Errors.Select(error => error.Message).Concat(UnknownOptions(result)).ToList();
        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                await console.Error.WriteLineAsync($"filexfer: {error}");
            }

            await console.Error.WriteLineAsync("Try 'filexfer --help' for more information.");
            return (int)ExitCode.Usage;
        }

        var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error };
        return await result.InvokeAsync(configuration, cancellationToken);
    }

    /// <summary>
    /// Option-like tokens that the parser bound to a command's arguments. System.CommandLine hands an unknown
    /// <c>--bogus</c> to a command that takes an argument as its value, so a mistyped option would silently become a
    /// path: <c>get f --bogus</c> would write a local file named <c>--bogus</c>, <c>rm -f x</c> would delete a remote
    /// <c>-f</c>. Such tokens are usage errors unless they follow <c>--</c>, which is how a real name starting with
    /// <c>-</c> is given. A lone <c>-</c> is a name.
    /// </summary>
    private static IEnumerable<string> UnknownOptions(ParseResult result)
    {
        int doubleDash = result.Tokens.ToList().FindIndex(token => token.Type == TokenType.DoubleDash);
        foreach (var argument in result.CommandResult.Children.OfType<ArgumentResult>())
        {
            foreach (var token in argument.Tokens)
            {
                if (token.Value.Length > 1 && token.Value[0] == '-' && (doubleDash < 0 || IndexOf(result.Tokens, token) < doubleDash))
                {
                    yield return $"Unrecognized option '{token.Value}' (put '--' before a name that starts with '-').";
                }
            }
        }
    }

    private static int IndexOf(IReadOnlyList<Token> tokens, Token token)
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            if (ReferenceEquals(tokens[i], token))
            {
                return i;
            }
        }

        return -1;
    }
}
