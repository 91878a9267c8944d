using System.CommandLine;

namespace FileXfer.Client.Cli.Commands;

/// <summary><c>filexfer put LOCAL REMOTE</c>, <c>put -r LOCALDIR REMOTEDIR</c> and <c>put - REMOTE</c>.</summary>
internal static class PutCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var local = ValueChecks.NotEmpty(new Argument<string>("LOCAL") { Description = "Local file, directory (with -r), or '-' for standard input." });
        var remote = RemoteArguments.Checked(new Argument<string>("REMOTE") { Description = "Remote path; ending in '/' keeps the local name inside that directory. With -r, the directory that receives the contents of LOCAL." });
        var tree = new TreeOptions();
        var streams = new StreamsOption();
        var delete = new Option<bool>("--delete") { Description = "With -r: delete remote files and directories that LOCAL does not have (refused when LOCAL is empty)." };
        var maxDelete = ValueChecks.AtLeast(
            new Option<int>("--max-delete")
            {
                Description = "With --delete: refuse all deletions when more than this many are planned.",
                DefaultValueFactory = _ => new TreeTransferOptions().MaxDelete,
            },
            0);
        var command = new Command("put", "Upload a file, a directory tree (-r) or standard input ('-'). The server stores each file under its real name only after the hash of what it received matched.")
        {
            local, remote, tree.Recursive, tree.Checksum, tree.DryRun, delete, maxDelete, tree.Include, tree.Exclude, tree.IncludeFrom, tree.ExcludeFrom, tree.FilesFrom, tree.Parallel, streams.Option, tree.Json, globals.Algorithm,
        };
        CommandRules.Add(command, result =>
            CommandRules.NeedsRecursive(result, tree.Recursive, [tree.Checksum, tree.DryRun, delete, .. tree.FilterOptions, tree.Parallel])
            ?? streams.NotWithRecursive(result, tree.Recursive)
            ?? (!result.GetValue(tree.Recursive) && result.GetValue(local) == "-" && result.GetValue(remote)!.EndsWith('/') ? "put - needs a remote file name, not a directory" : null));
        command.SetAction((result, cancellationToken) =>
            CommandRunner.RunAsync(console, globals, result, result.GetValue(globals.Algorithm), async (connect, options, retry) =>
            {
                var run = new TransferRun(console, connect, retry, options.HashAlgorithm, result.GetValue(tree.Json), result.GetValue(globals.Quiet)) { Streams = streams.Requested(result), Client = options };
                if (!result.GetValue(tree.Recursive))
                {
                    return await run.PutAsync(result.GetValue(local)!, result.GetValue(remote)!, cancellationToken);
                }

                var transferOptions = await tree.ToTransferOptionsAsync(result, options.Run, cancellationToken);
                transferOptions.Delete = result.GetValue(delete);
                transferOptions.MaxDelete = result.GetValue(maxDelete);
                return await run.PutTreeAsync(result.GetValue(local)!, result.GetValue(remote)!, transferOptions, cancellationToken);
            }, cancellationToken));
        return command;
    }
}
