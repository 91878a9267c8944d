using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using FileXfer.Client.Cli.Commands;
using FileXfer.Client.Cli.Remotes;

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
          130  interrupted by SIGINT (Ctrl+C); 143 by SIGTERM (temp files are removed)
          141  standard output closed by its reader (broken pipe)
        """;

    /// <summary>Builds the root command with all subcommands.</summary>
    public static RootCommand CreateRootCommand(CliConsole console) => CreateRootCommand(console, out _);

    private static RootCommand CreateRootCommand(CliConsole console, out GlobalOptions globals)
    {
        var root = AddCommands(new RootCommand("FileXfer client: verified file transfer to and from a filexfer-server.\n\n" + ExitCodesHelp), console, out globals);
        // Help on a terminal wraps at its width, given here: System.CommandLine would ask Console.WindowWidth, and
        // System.Console then leaves the terminal in keypad mode.
        if (console.OutputTerminalColumns() is { } columns)
        {
            foreach (var help in root.Options.OfType<HelpOption>())
            {
                ((HelpAction)help.Action!).MaxWidth = columns;
            }
        }

        return root;
    }

    /// <summary>Parses and runs one command line; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        ParseResult? result = null;
        GlobalOptions? globals = null;
        if (!NeedsRootCommand(args))
        {
            // Without --help and --version: RootCommand looks up its name by reflection and those two options read
            // their descriptions through a ResourceManager, together 0.4 ms of a short command with the Native AOT
            // client. A line that does not parse cleanly is parsed again below with the whole tree, so that errors
            // read exactly as they do there.
            result = AddCommands(new Command("filexfer"), console, out globals).Parse(args);
            if (result.Errors.Count > 0 || UnknownOptions(result).Any())
            {
                result = null;
            }
        }

        if (result is null)
        {
            result = CreateRootCommand(console, out var rootGlobals).Parse(args);
            globals = rootGlobals;
        }

        var errors = result.Errors.Select(error => error.Message).Concat(UnknownOptions(result)).ToList();
        if (errors.Count > 0)
        {
            foreach (var error in errors)
            {
                await console.Error.WriteLineAsync($"filexfer: {error}");
            }

            if (!result.Errors.All(CommandRules.IsRule) || UnknownOptions(result).Any())
            {
                await console.Error.WriteLineAsync("Try 'filexfer --help' for more information.");
            }

            return (int)ExitCode.Usage;
        }

        try
        {
            // A named remote (--remote NAME, NAME:path) gives its settings; its prefixes are taken off the paths.
            var (remote, tokens) = RemoteSelection.Resolve(result, globals!.RemoteOption, console);
            globals.Remote = remote;
            if (tokens is not null)
            {
                result = result.RootCommandResult.Command.Parse(tokens);
            }
        }
        catch (UserFacingException ex)
        {
            return (int)await ErrorReporter.ReportAsync(console, ex);
        }

        var configuration = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            // Signals are the caller's (see TerminationSignals): System.CommandLine's handler registers
            // Console.CancelKeyPress, which leaves the terminal in keypad mode, and ends with exit code 1.
            ProcessTerminationTimeout = null,
            // The commands report their own failures; what is left (help written to a closed pipe) is reported the same way.
            EnableDefaultExceptionHandler = false,
        };
        try
        {
            return await result.InvokeAsync(configuration, cancellationToken);
        }
        catch (Exception ex)
        {
            return (int)await ErrorReporter.ReportAsync(console, ex);
        }
    }

    private static T AddCommands<T>(T root, CliConsole console, out GlobalOptions globals)
        where T : Command
    {
        ArgumentNullException.ThrowIfNull(console);
        globals = new GlobalOptions();
        root.Options.Add(globals.Server);
        root.Options.Add(globals.RemoteOption);
        root.Options.Add(globals.TokenFile);
        root.Options.Add(globals.Quiet);
        root.Options.Add(globals.ConnectTimeout);
        root.Options.Add(globals.RetriesOption);
        root.Options.Add(globals.Timeout);
        root.Options.Add(globals.Tls);
        root.Options.Add(globals.Pin);
        root.Options.Add(globals.KnownHosts);
        root.Options.Add(globals.TlsNoTofu);
        root.Options.Add(globals.BandwidthLimit);
        root.Options.Add(globals.Compress);
        root.Subcommands.Add(PutCommand.Create(console, globals));
        root.Subcommands.Add(GetCommand.Create(console, globals));
        root.Subcommands.Add(ListCommand.Create(console, globals));
        root.Subcommands.Add(StatCommand.Create(console, globals));
        root.Subcommands.Add(RemoveCommand.Create(console, globals));
        root.Subcommands.Add(HashCommand.Create(console, globals));
        root.Subcommands.Add(VerifyCommand.Create(console, globals));
        return root;
    }

    /// <summary>
    /// True when a token may be something only the real root command understands: its --help (with the aliases it
    /// takes on every command) and --version, a response file (<c>@FILE</c>) or a directive (<c>[NAME]</c>); or
    /// when the first token is the stand-in root's name, which the parser would take for the root itself.
    /// </summary>
    internal static bool NeedsRootCommand(string[] args) =>
        args.Length == 0
        || args[0] == "filexfer"
        || args.Any(arg => arg is "-h" or "--help" or "-?" or "/h" or "/?" or "--version" || arg.StartsWith('@') || arg.StartsWith('['));

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
