using System.CommandLine;

namespace FileXfer.Client.Cli.Commands;

/// <summary><c>filexfer rm REMOTE...</c>.</summary>
internal static class RemoveCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var remote = new Argument<string[]>("REMOTE") { Description = "Remote files or empty directories.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("rm", "Delete remote files or empty directories. Goes on past a failure; exits with the last failure's code.") { remote };
        command.SetAction((result, cancellationToken) =>
        {
            var paths = result.GetValue(remote)!;
            return CommandRunner.RunAsync(console, globals, result, algorithm: null, async client =>
            {
                var exit = ExitCode.Ok;
                foreach (var path in paths)
                {
                    try
                    {
                        await client.DeleteAsync(path, cancellationToken);
                    }
                    catch (Exception ex) when (ErrorReporter.IsPerItem(ex))
                    {
                        exit = await ErrorReporter.ReportAsync(console, ex);
                    }
                }

                return exit;
            }, cancellationToken);
        });
        return command;
    }
}
