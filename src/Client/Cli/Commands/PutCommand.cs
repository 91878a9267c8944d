using System.CommandLine;
using FileXfer.Client.Resilience;
using FileXfer.Client.Local;
using FileXfer.Client.Sync;
using FileXfer.Protocol;
using FileXfer.Protocol.Paths;

namespace FileXfer.Client.Cli.Commands;

/// <summary><c>filexfer put LOCAL REMOTE</c>, <c>put -r LOCALDIR REMOTEDIR</c> and <c>put - REMOTE</c>.</summary>
internal static class PutCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var local = ValueChecks.NotEmpty(new Argument<string>("LOCAL") { Description = "Local file, directory (with -r), or '-' for standard input." });
        var remote = RemoteArguments.Checked(new Argument<string>("REMOTE") { Description = "Remote path; ending in '/' keeps the local name inside that directory. With -r, the directory that receives the contents of LOCAL." });
        var tree = new TreeOptions();
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
            local, remote, tree.Recursive, tree.Checksum, tree.DryRun, delete, maxDelete, tree.Include, tree.Exclude, tree.IncludeFrom, tree.ExcludeFrom, tree.FilesFrom, tree.Parallel, tree.Json, globals.Algorithm,
        };
        command.SetAction((result, cancellationToken) =>
        {
            var localPath = result.GetValue(local)!;
            var remotePath = result.GetValue(remote)!;
            bool quiet = result.GetValue(globals.Quiet);
            bool json = result.GetValue(tree.Json);
            return CommandRunner.RunAsync(console, globals, result, result.GetValue(globals.Algorithm), async (connect, options, retry) =>
            {
                if (result.GetValue(tree.Recursive))
                {
                    var transferOptions = await tree.ToTransferOptionsAsync(result, cancellationToken);
                    transferOptions.Delete = result.GetValue(delete);
                    transferOptions.MaxDelete = result.GetValue(maxDelete);

                    return await PutTreeAsync(console, connect, retry, options.HashAlgorithm, transferOptions, localPath, remotePath, json, quiet, cancellationToken);
                }

                TreeOptions.RequireRecursiveFor(result, [tree.Checksum, tree.DryRun, delete, .. tree.FilterOptions, tree.Parallel]);
                var output = new TransferOutput(console, "put", json, quiet, dryRun: false);
                if (localPath == "-")
                {
                    if (remotePath.EndsWith('/'))
                    {
                        throw new UserFacingException(ExitCode.Usage, "put - needs a remote file name, not a directory");
                    }

                    return await SingleAsync(output, json, "-", remotePath, options.HashAlgorithm, async () =>
                    {
                        // Standard input cannot be read twice: no retry here.
                        await using var client = await connect(cancellationToken);
                        await using var input = console.OpenStandardInput();
                        var progress = new ProgressBar(console, quiet, RemotePath.Escape(remotePath), total: null);
                        var transfer = await client.PutStreamAsync(input, remotePath, progress.Advance, cancellationToken);
                        progress.Complete();
                        return transfer;
                    }, console, quiet, "stored");
                }

                if (Directory.Exists(localPath))
                {
                    throw new UserFacingException(ExitCode.Usage, $"'{localPath}' is a directory (use put -r)");
                }

                if (!File.Exists(localPath))
                {
                    throw new UserFacingException(ExitCode.NotFound, $"'{localPath}' not found");
                }

                if (remotePath.EndsWith('/'))
                {
                    remotePath += Path.GetFileName(localPath);
                }

                // A device or a socket is refused here, before connecting; a FIFO is read once, as standard input is.
                var attempts = SpecialFiles.Check(localPath, FileAccess.Read) == LocalFileKind.Fifo ? TransferRetry.Create(0, TimeProvider.System, onRetry: null) : retry;
                return await SingleAsync(output, json, localPath, remotePath, options.HashAlgorithm, () => attempts.ExecuteAsync(async token =>
                {
                    // Each attempt reconnects; the server proves what it kept of an earlier one and only the rest is sent.
                    await using var client = await connect(token);
                    var progress = new ProgressBar(console, quiet, RemotePath.Escape(remotePath), new FileInfo(localPath).Length);
                    try
                    {
                        var transfer = await client.UploadFileAsync(localPath, remotePath, progress.Advance, token);
                        progress.Complete();
                        return transfer;
                    }
                    catch
                    {
                        progress.Clear();
                        throw;
                    }
                }, cancellationToken).AsTask(), console, quiet, "stored");
            }, cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// Runs one file's transfer; with --json reports it as one object and a summary, and a failure as a failed
    /// object (the exit code still says what kind of failure).
    /// </summary>
    internal static async Task<ExitCode> SingleAsync(TransferOutput output, bool json, string localPath, string remotePath, string algorithm, Func<Task<TransferResult>> transfer, CliConsole console, bool quiet, string verb)
    {
        string operation = verb == "stored" ? "put" : "get";
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        TransferResult result;
        try
        {
            result = await transfer();
        }
        catch (Exception ex) when (json && ex is not OperationCanceledException)
        {
            await output.OnEventAsync(new TreeEvent(operation, ItemStatus.Failed, localPath, remotePath, 0, algorithm, null, ex));
            await output.FinishAsync(new TreeSummary(operation, 0, 0, 1, 0, 0, System.Diagnostics.Stopwatch.GetElapsedTime(started), false, false));
            return ErrorReporter.Classify(ex).Code;
        }

        if (json)
        {
            await output.OnEventAsync(new TreeEvent(operation, ItemStatus.Transferred, localPath, result.RemotePath, result.Size, result.HashAlgorithm, result.HashHex, null));
            return await output.FinishAsync(new TreeSummary(operation, 1, 0, 0, 0, result.Size, System.Diagnostics.Stopwatch.GetElapsedTime(started), false, false));
        }

        if (!quiet)
        {
            var shown = verb == "stored" ? result.RemotePath : localPath;
            var resumed = result.ResumedFrom > 0 ? $", resumed after {ByteSize.Format(result.ResumedFrom)}" : string.Empty;
            await console.Out.WriteLineAsync($"{verb} {RemotePath.Escape(shown)} ({ByteSize.Format(result.Size)}, {result.HashAlgorithm} {result.HashHex}{resumed})");
        }

        return ExitCode.Ok;
    }

    private static async Task<ExitCode> PutTreeAsync(CliConsole console, Func<CancellationToken, Task<FileXferClient>> connect, TransferRetry retry, string algorithm, TreeTransferOptions options, string localPath, string remotePath, bool json, bool quiet, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(localPath))
        {
            throw File.Exists(localPath)
                ? new UserFacingException(ExitCode.Usage, $"'{localPath}' is a file; put -r takes a directory")
                : new UserFacingException(ExitCode.NotFound, $"directory '{localPath}' not found");
        }

        var output = new TransferOutput(console, "put", json, quiet, options.DryRun);
        ProgressBar? bar = null;
        // The walk finds files as it goes: the bar's total grows with it.
        options.Planned = (_, bytes) => (bar ??= new ProgressBar(console, quiet || json, RemotePath.Escape(remotePath), bytes)).SetTotal(bytes);
        var transfer = new TreeTransfer(connect, algorithm, options);
        TreeSummary summary;
        try
        {
            // A retry resumes the walk where the failed attempt stopped (the same TreeTransfer keeps its progress).
            summary = await retry.ExecuteAsync(async token => await transfer.PutTreeAsync(localPath, remotePath, async item =>
            {
                // Any line printed for an item starts on a clean line, not after the bar.
                bar?.Clear();
                await output.OnEventAsync(item);
            }, bytes => bar?.Advance(bytes), token), cancellationToken);
        }
        catch (FileXferException ex) when (!ex.IsRemote && ex.Code == ErrorCode.BadRequest)
        {
            // A --delete guard: nothing was changed.
            bar?.Clear();
            throw new UserFacingException(ExitCode.Usage, ex.Message);
        }

        bar?.Complete();
        return await output.FinishAsync(summary);
    }
}
