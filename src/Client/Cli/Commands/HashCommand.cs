using System.CommandLine;
using FileXfer.Protocol.Paths;

namespace FileXfer.Client.Cli.Commands;

/// <summary><c>filexfer hash REMOTE...</c>: the coreutils <c>HEX  PATH</c> format, computed by the server.</summary>
internal static class HashCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var remote = new Argument<string[]>("REMOTE") { Description = "Remote files.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("hash", "Print the server's hash of stored files without downloading them, as '<hex>  <path>' lines (the sha256sum format).")
        {
            remote, globals.Algorithm,
        };
        command.SetAction((result, cancellationToken) =>
        {
            var paths = result.GetValue(remote)!;
            var algorithm = result.GetValue(globals.Algorithm);
            return CommandRunner.RunAsync(console, globals, result, algorithm, async client =>
            {
                var exit = ExitCode.Ok;
                foreach (var path in paths)
                {
                    try
                    {
                        var hash = await client.HashAsync(path, algorithm, cancellationToken);
                        await console.Out.WriteLineAsync($"{hash.HashHex}  {RemotePath.Escape(path)}");
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
