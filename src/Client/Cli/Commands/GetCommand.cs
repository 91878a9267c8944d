using System.CommandLine;
using FileXfer.Client.Resilience;
using FileXfer.Client.Local;
using FileXfer.Client.Sync;
using FileXfer.Protocol.Paths;

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
        var command = new Command("get", "Download a file, a directory tree (-r) or to standard output ('-'). Each file is written to a temp file beside its destination and renamed only after its hash matched.")
        {
            remote, local, tree.Recursive, tree.Checksum, tree.DryRun, tree.Include, tree.Exclude, tree.IncludeFrom, tree.ExcludeFrom, tree.FilesFrom, tree.Parallel, tree.Json, globals.Algorithm,
        };
        command.SetAction((result, cancellationToken) =>
        {
            var remotePath = result.GetValue(remote)!;
            var localPath = result.GetValue(local)!;
            bool quiet = result.GetValue(globals.Quiet);
            bool json = result.GetValue(tree.Json);
            return CommandRunner.RunAsync(console, globals, result, result.GetValue(globals.Algorithm), async (connect, options, retry) =>
            {
                if (result.GetValue(tree.Recursive))
                {
                    return await GetTreeAsync(console, connect, retry, options.HashAlgorithm, await tree.ToTransferOptionsAsync(result, cancellationToken), remotePath, localPath, json, quiet, cancellationToken);
                }

                TreeOptions.RequireRecursiveFor(result, [tree.Checksum, tree.DryRun, .. tree.FilterOptions, tree.Parallel]);
                var normalized = RemotePath.Normalize(remotePath);
                var output = new TransferOutput(console, "get", json, quiet, dryRun: false);
                if (localPath == "-")
                {
                    if (json)
                    {
                        throw new UserFacingException(ExitCode.Usage, "--json cannot share standard output with the file's bytes");
                    }

                    // Bytes written to standard output cannot be taken back: no retry here.
                    await using var client = await connect(cancellationToken);
                    // Bytes reach standard output as they arrive; a hash mismatch is reported after them, with exit 4.
                    await using var stdout = console.OpenStandardOutput();
                    await client.GetAsync(normalized, stdout, progress: null, cancellationToken);
                    await stdout.FlushAsync(cancellationToken);
                    return ExitCode.Ok;
                }

                if (Directory.Exists(localPath))
                {
                    var name = RemotePath.GetName(normalized);
                    if (name.Length == 0)
                    {
                        throw new UserFacingException(ExitCode.Usage, "the remote root is a directory (use get -r)");
                    }

                    localPath = Path.Combine(localPath, name);
                }

                var parent = Path.GetDirectoryName(Path.GetFullPath(localPath));
                if (parent is null || !Directory.Exists(parent))
                {
                    throw new UserFacingException(ExitCode.NotFound, $"local directory '{parent}' does not exist");
                }

                // Bytes written into a FIFO or a device cannot be taken back: no retry there, as for standard output.
                var attempts = SpecialFiles.Check(localPath, FileAccess.Write) == LocalFileKind.Other ? retry : TransferRetry.Create(0, TimeProvider.System, onRetry: null);
                return await PutCommand.SingleAsync(output, json, localPath, normalized, options.HashAlgorithm, () => attempts.ExecuteAsync(async token =>
                {
                    // Each attempt reconnects and offers the partial download it kept, proven by its hash.
                    await using var client = await connect(token);

                    // The size for the bar costs a round trip, paid only when a bar is drawn.
                    long total = ProgressBar.IsShown(console, quiet) ? (await client.StatAsync(normalized, token)).Size : 0;
                    var progress = new ProgressBar(console, quiet, RemotePath.Escape(normalized), total);
                    try
                    {
                        var transfer = await client.DownloadFileAsync(normalized, localPath, progress.Advance, token);
                        progress.Complete();
                        return transfer;
                    }
                    catch
                    {
                        progress.Clear();
                        throw;
                    }
                }, cancellationToken).AsTask(), console, quiet, "saved");
            }, cancellationToken);
        });
        return command;
    }

    private static async Task<ExitCode> GetTreeAsync(CliConsole console, Func<CancellationToken, Task<FileXferClient>> connect, TransferRetry retry, string algorithm, TreeTransferOptions options, string remotePath, string localPath, bool json, bool quiet, CancellationToken cancellationToken)
    {
        if (localPath == "-")
        {
            throw new UserFacingException(ExitCode.Usage, "get -r needs a local directory, not standard output");
        }

        if (File.Exists(localPath))
        {
            throw new UserFacingException(ExitCode.Usage, $"'{localPath}' is a file; get -r needs a directory");
        }

        var output = new TransferOutput(console, "get", json, quiet, options.DryRun);
        ProgressBar? bar = null;
        // The walk finds files as it goes: the bar's total grows with it.
        options.Planned = (_, bytes) => (bar ??= new ProgressBar(console, quiet || json, RemotePath.Escape(remotePath), bytes)).SetTotal(bytes);
        var transfer = new TreeTransfer(connect, algorithm, options);
        // A retry resumes the walk where the failed attempt stopped (the same TreeTransfer keeps its progress).
        var summary = await retry.ExecuteAsync(async token => await transfer.GetTreeAsync(remotePath, localPath, async item =>
        {
            // Any line printed for an item starts on a clean line, not after the bar.
            bar?.Clear();
            await output.OnEventAsync(item);
        }, bytes => bar?.Advance(bytes), token), cancellationToken);
        bar?.Complete();
        return await output.FinishAsync(summary);
    }
}
