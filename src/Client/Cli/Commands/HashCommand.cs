using System.CommandLine;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Paths;

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
        command.SetAction((result, cancellationToken) =>
        {
            var paths = result.GetValue(remote)!;
            bool isRecursive = result.GetValue(recursive);
            var algorithm = result.GetValue(globals.Algorithm);
            return CommandRunner.RunAsync(console, globals, result, algorithm, async client =>
            {
                if (isRecursive && paths.Length != 1)
                {
                    throw new UserFacingException(ExitCode.Usage, "hash -r takes one remote directory");
                }

                // Printed paths: as given, or relative to the directory with -r.
                List<(string Remote, string Shown)> targets;
                if (isRecursive)
                {
                    var top = RemotePath.Normalize(paths[0]);
                    var tree = await client.ListTreeAsync(top, cancellationToken);
                    targets = [.. tree.Where(e => e.Kind == EntryKind.File).Select(e => (RemotePath.Combine(top, e.Name), e.Name))];
                }
                else
                {
                    targets = [.. paths.Select(p => (p, p))];
                }

                int failures = 0;
                ExitCode lastFailure = ExitCode.Ok;
                int index = 0;
                await client.HashBatchAsync(targets.Select(t => t.Remote), async hash =>
                {
                    var shown = targets[index++].Shown;
                    if (hash.Error is { } error)
                    {
                        failures++;
                        lastFailure = await ErrorReporter.ReportAsync(console, error);
                    }
                    else
                    {
                        await console.Out.WriteLineAsync($"{hash.HashHex}  {RemotePath.Escape(shown)}");
                    }
                }, cancellationToken);

                return failures == 0 ? ExitCode.Ok : targets.Count == 1 ? lastFailure : ExitCode.SomeFailed;
            }, cancellationToken);
        });
        return command;
    }
}
