using System.CommandLine;

namespace FileXfer.Client.Cli.Commands;

/// <summary>
/// <c>filexfer hash REMOTE...</c> and <c>hash -r REMOTEDIR</c>: the coreutils <c>HEX  PATH</c> format, computed by
/// the server without sending the files. With -r the paths are relative to REMOTEDIR, so the output is a
/// manifest that <c>sha256sum -c</c> checks inside a restored copy.
/// </summary>
internal static class HashCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var remote = RemoteArguments.Checked(new Argument<string[]>("REMOTE") { Description = "Remote files, or one directory with -r.", Arity = ArgumentArity.OneOrMore });
        var recursive = new Option<bool>("--recursive", "-r") { Description = "Hash every file below one remote directory; print paths relative to it." };
        var command = new Command("hash", "Print the server's hash of stored files without downloading them, as '<hex>  <path>' lines (the sha256sum format).")
        {
            remote, recursive, globals.Algorithm,
        };
        CommandRules.Add(command, result => result.GetValue(recursive) && result.GetValue(remote)!.Length != 1 ? "hash -r takes one remote directory" : null);
        command.SetAction((result, cancellationToken) =>
        {
            var paths = result.GetValue(remote)!;
            bool isRecursive = result.GetValue(recursive);
            var algorithm = result.GetValue(globals.Algorithm);
            return CommandRunner.RunAsync(console, globals, result, algorithm, async client =>
            {
                int failures = 0;
                int count = 0;
                ExitCode lastFailure = ExitCode.Ok;
                async ValueTask PrintAsync(string shown, BatchItemResult hash)
                {
                    count++;
                    if (hash.Error is { } error)
                    {
                        failures++;
                        lastFailure = await ErrorReporter.ReportAsync(console, error);
                    }
                    else
                    {
                        await console.Out.WriteLineAsync($"{hash.HashHex}  {RemotePath.Escape(shown)}");
                    }
                }

                if (isRecursive)
                {
                    // Printed paths relative to the directory, streamed as the walk goes.
                    await TreeHasher.HashTreeAsync(client, paths[0], PathFilter.All, PrintAsync, cancellationToken);
                    return failures == 0 ? ExitCode.Ok : ExitCode.SomeFailed;
                }

                int index = 0;
                await client.HashBatchAsync(paths, hash => PrintAsync(paths[index++], hash), cancellationToken);
                return failures == 0 ? ExitCode.Ok : count == 1 ? lastFailure : ExitCode.SomeFailed;
            }, cancellationToken);
        });
        return command;
    }
}
