using System.CommandLine;

namespace FileXfer.Client.Cli.Commands;

/// <summary><c>filexfer rm REMOTE...</c>.</summary>
internal static class RemoveCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var remote = RemoteArguments.Checked(new Argument<string[]>("REMOTE") { Description = "Remote files or empty directories.", Arity = ArgumentArity.OneOrMore });
        var command = new Command("rm", "Delete remote files or empty directories. Goes on past a failure; exits 7 when some of several failed.") { remote };
        command.SetAction((result, cancellationToken) =>
        {
            var paths = result.GetValue(remote)!;
            return CommandRunner.RunAsync(console, globals, result, algorithm: null, async client =>
            {
                await client.RequireWriteAccessAsync("rm", cancellationToken);
                var exit = ExitCode.Ok;
                int failures = 0;
                foreach (var path in paths)
                {
                    try
                    {
                        await client.DeleteAsync(path, cancellationToken);
                    }
                    catch (Exception ex) when (ErrorReporter.IsPerItem(ex))
                    {
                        failures++;
                        exit = await ErrorReporter.ReportAsync(console, ex);
                    }
                }

                return failures > 0 && paths.Length > 1 ? ExitCode.SomeFailed : exit;
            }, cancellationToken);
        });
        return command;
    }
}
