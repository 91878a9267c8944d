using System.CommandLine;

namespace FileXfer.Client.Cli.Commands;

/// <summary><c>filexfer get REMOTE [LOCAL]</c>, <c>get -r REMOTEDIR LOCALDIR</c> and <c>get REMOTE -</c>.</summary>
internal static class GetCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var remote = RemoteArguments.Checked(new Argument<string>("REMOTE") { Description = "Remote file, or directory with -r." });
        var local = ValueChecks.NotEmpty(new Argument<string>("LOCAL")
        {
            Description = "Local path; an existing directory receives the remote name; '-' writes standard output. With -r, the directory that receives the contents of REMOTE. Default: the current directory.",
            DefaultValueFactory = _ => ".",
        });
        var tree = new TreeOptions();
        var streams = new StreamsOption();
        var command = new Command("get", "Download a file, a directory tree (-r) or to standard output ('-'). Each file is written to a temp file beside its destination and renamed only after its hash matched.")
        {
            remote, local, tree.Recursive, tree.Checksum, tree.DryRun, tree.Include, tree.Exclude, tree.IncludeFrom, tree.ExcludeFrom, tree.FilesFrom, tree.Parallel, streams.Option, tree.Json, globals.Algorithm,
        };
        CommandRules.Add(command, result => (result.GetValue(tree.Recursive), result.GetValue(local) == "-") switch
        {
            (true, true) => "get -r needs a local directory, not standard output",
            (true, false) => streams.NotWithRecursive(result, tree.Recursive),
            (false, var toStandardOutput) => CommandRules.NeedsRecursive(result, tree.Recursive, [tree.Checksum, tree.DryRun, .. tree.FilterOptions, tree.Parallel])
                ?? (toStandardOutput && result.GetValue(tree.Json) ? "--json cannot share standard output with the file's bytes" : null),
        });
        command.SetAction((result, cancellationToken) =>
            CommandRunner.RunAsync(console, globals, result, result.GetValue(globals.Algorithm), async (connect, options, retry) =>
            {
                var run = new TransferRun(console, connect, retry, options.HashAlgorithm, result.GetValue(tree.Json), result.GetValue(globals.Quiet)) { Streams = streams.Requested(result) };
                return result.GetValue(tree.Recursive)
                    ? await run.GetTreeAsync(result.GetValue(remote)!, result.GetValue(local)!, await tree.ToTransferOptionsAsync(result, options.Run, cancellationToken), cancellationToken)
                    : await run.GetAsync(result.GetValue(remote)!, result.GetValue(local)!, cancellationToken);
            }, cancellationToken));
        return command;
    }
}
