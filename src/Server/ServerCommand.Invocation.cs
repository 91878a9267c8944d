using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using FileXfer.Server.Configuration;

namespace FileXfer.Server;

/// <summary>
/// Parsing: settings from <c>--config</c> and the environment put under the command line's, and each usage error
/// as one line on stderr.
/// </summary>
internal static partial class ServerCommand
{
    /// <summary>
    /// Parses <paramref name="args"/> and runs the command. A usage error (unknown option, missing or invalid
    /// argument) prints one <c>filexfer-server: …</c> line per error on stderr, nothing on stdout, and exits 2;
    /// <c>--help</c> and <c>--version</c> win over errors, as the parser decides.
    /// </summary>
    /// <remarks>Settings are read from <c>environment</c>, by default the process's own variables.</remarks>
    public static async Task<int> InvokeAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        InvocationConfiguration configuration,
        Func<TextWriter>? logOutput = null,
        System.Collections.IDictionary? environment = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = ServerConfiguration.None(args);
        var command = Create(stdout, stderr, logOutput, name => settings.Describe(name));
        if (!Console.IsOutputRedirected)
        {
            // Help on a terminal wraps at its width, given here: System.CommandLine would ask Console.WindowWidth, and
            // System.Console then leaves the terminal in keypad mode.
            foreach (var help in command.Options.OfType<HelpOption>())
            {
                ((HelpAction)help.Action!).MaxWidth = StandardStream.TerminalColumns(StandardStream.Output) ?? 80;
            }
        }

        var result = command.Parse(args);
        if (result.CommandResult.Command == command && (result.Action is ParseErrorAction || result.Action == command.Action))
        {
            // The server itself (not --help, --version or a subcommand): settings from the file and the environment
            // come before the command line's, which override them.
            var configOption = command.Options.OfType<Option<FileInfo?>>().Single(o => o.Name == "--config");
            settings = ServerConfiguration.Build(command, configOption, result, args, environment ?? Environment.GetEnvironmentVariables());
            if (settings.Problems.Count > 0)
            {
                foreach (var problem in settings.Problems)
                {
                    await stderr.WriteLineAsync($"filexfer-server: {problem}");
                }

                await stderr.FlushAsync(cancellationToken);
                return (int)ServerExitCode.Usage;
            }

            result = command.Parse([.. settings.Arguments]);
        }

        if (result.Action is ParseErrorAction)
        {
            var lines = result.Errors.Select(error => UsageLine(error.Message)).ToList();
            for (int i = 0; i < lines.Count; i++)
            {
                var hint = i == lines.Count - 1 ? $" (see {CommandPath(result.CommandResult)} --help)" : string.Empty;
                await stderr.WriteLineAsync($"filexfer-server: {lines[i]}{hint}");
            }

            await stderr.FlushAsync(cancellationToken);
            return (int)ServerExitCode.Usage;
        }

        return await result.InvokeAsync(configuration, cancellationToken);
    }

    /// <summary>
    /// A parser message as one line in the style of the other errors: lower-case start, no final period, and the
    /// indented list of allowed values ("Must be one of:") joined onto the line.
    /// </summary>
    private static string UsageLine(string message)
    {
        var parts = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = parts.Length == 0 ? "invalid command line" : parts[0] + (parts.Length > 1 ? " " + string.Join(", ", parts[1..]) : string.Empty);
        line = line.TrimEnd('.');
        return line.Length > 0 && char.IsUpper(line[0]) ? char.ToLowerInvariant(line[0]) + line[1..] : line;
    }

    /// <summary>The command as typed, e.g. <c>filexfer-server token new</c> (the root's own name is the host's).</summary>
    private static string CommandPath(CommandResult command)
    {
        var names = new Stack<string>();
        for (var current = command; current is not null && current.Command is not RootCommand; current = current.Parent as CommandResult)
        {
            names.Push(current.Command.Name);
        }

        names.Push("filexfer-server");
        return string.Join(' ', names);
    }
}
