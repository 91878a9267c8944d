using FileXfer.Client.Resilience;

namespace FileXfer.Client.Cli;

/// <summary>
/// What <c>put</c> and <c>get</c> do once their line is parsed: a file, standard input or output, or a tree, each with
/// its progress bar, its retries and its report (lines, or <c>--json</c>). The commands only choose which.
/// </summary>
/// <param name="console">Where output and the progress bar go.</param>
/// <param name="connect">Opens a connection; each attempt opens its own.</param>
/// <param name="retry">The retry pipeline of the command.</param>
/// <param name="algorithm">The connection's hash algorithm, for reports.</param>
/// <param name="json">True for <c>--json</c> output.</param>
/// <param name="quiet">True for <c>--quiet</c>.</param>
internal sealed class TransferRun(CliConsole console, Func<CancellationToken, Task<FileXferClient>> connect, TransferRetry retry, string algorithm, bool json, bool quiet)
{
    /// <summary><c>--streams</c>: the connections one large file goes over; null lets the round trip decide (<see cref="ParallelTransfer.ChooseStreams"/>).</summary>
    public int? Streams { get; init; }

    /// <summary>
    /// The settings <c>connect</c> opens connections with: their run lets a put in ranges open its other connections as
    /// soon as the first one's TCP connection measured the link (<see cref="ParallelTransfer.UploadFileAsync"/>), unless
    /// the put compresses (which goes over one connection unless --streams asks for more). Null: after the first is up.
    /// </summary>
    public FileXferClientOptions? Client { get; init; }

    /// <summary><c>put LOCAL REMOTE</c>; <c>put - REMOTE</c> reads standard input.</summary>
    public async Task<ExitCode> PutAsync(string localPath, string remotePath, CancellationToken cancellationToken)
    {
        if (localPath == "-")
        {
            return await ReportAsync("put", "-", remotePath, async () =>
            {
                // Standard input cannot be read twice: no retry here.
                await using var client = await connect(cancellationToken);
                await using var input = console.OpenStandardInput();
                return await WithBarAsync(remotePath, total: null, advance => client.PutStreamAsync(input, remotePath, advance, cancellationToken));
            });
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
        var attempts = LocalSource.IsReadOnce(localPath) ? TransferRetry.Create(0, TimeProvider.System, onRetry: null) : retry;
        int attempt = 0;
        return await ReportAsync("put", localPath, remotePath, () => attempts.ExecuteAsync(async token =>
        {
            // Each attempt reconnects; the server proves what it kept of an earlier one and only the rest is sent. A large
            // file over a long link goes in ranges over several connections (ParallelTransfer); else over one. The first
            // attempt opens the others as soon as the first one's TCP connection measured the link; a retry after it is up.
            var early = ++attempt == 1 && !(Client?.Compress == true && Streams is null) ? Client?.Run : null;
            return await WithBarAsync(remotePath, new FileInfo(localPath).Length, advance => ParallelTransfer.UploadFileAsync(connect, early, localPath, remotePath, Streams, advance, token));
        }, cancellationToken).AsTask());
    }

    /// <summary><c>get REMOTE LOCAL</c>; <c>get REMOTE -</c> writes standard output.</summary>
    public async Task<ExitCode> GetAsync(string remotePath, string localPath, CancellationToken cancellationToken)
    {
        var normalized = RemotePath.Normalize(remotePath);
        if (localPath == "-")
        {
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

        // What each range of a ranged get holds, across this command's attempts.
        var ranges = new RangedDownloadState();
        return await ReportAsync("get", localPath, normalized, () => attempts.ExecuteAsync(async token =>
        {
            // Each attempt reconnects and offers the partial download it kept, proven by its hash.
            await using var client = await connect(token);

            // The size for the bar costs a round trip, paid only when a bar is drawn.
            long? total = ProgressBar.IsShown(console, quiet) ? (await client.StatAsync(normalized, token)).Size : null;
            return await WithBarAsync(normalized, total ?? 0, advance => ParallelTransfer.DownloadFileAsync(client, connect, normalized, localPath, Streams, ranges, total, advance, token));
        }, cancellationToken).AsTask());
    }

    /// <summary><c>put -r LOCALDIR REMOTEDIR</c>.</summary>
    public async Task<ExitCode> PutTreeAsync(string localPath, string remotePath, TreeTransferOptions options, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(localPath))
        {
            throw File.Exists(localPath)
                ? new UserFacingException(ExitCode.Usage, $"'{localPath}' is a file; put -r takes a directory")
                : new UserFacingException(ExitCode.NotFound, $"directory '{localPath}' not found");
        }

        try
        {
            return await TreeAsync("put", remotePath, options, (transfer, onItem, progress, token) => transfer.PutTreeAsync(localPath, remotePath, onItem, progress, token), cancellationToken);
        }
        catch (FileXferException ex) when (!ex.IsRemote && ex.Code == ErrorCode.BadRequest)
        {
            // A --delete guard: nothing was changed.
            throw new UserFacingException(ExitCode.Usage, ex.Message);
        }
    }

    /// <summary><c>get -r REMOTEDIR LOCALDIR</c>.</summary>
    public Task<ExitCode> GetTreeAsync(string remotePath, string localPath, TreeTransferOptions options, CancellationToken cancellationToken) =>
        File.Exists(localPath)
            ? throw new UserFacingException(ExitCode.Usage, $"'{localPath}' is a file; get -r needs a directory")
            : TreeAsync("get", remotePath, options, (transfer, onItem, progress, token) => transfer.GetTreeAsync(remotePath, localPath, onItem, progress, token), cancellationToken);

    /// <summary>
    /// Runs a tree transfer, retried: a retry resumes the walk where the failed attempt stopped (the same
    /// <see cref="TreeTransfer"/> keeps its progress). The bar's total grows as the walk finds files.
    /// </summary>
    private async Task<ExitCode> TreeAsync(
        string operation,
        string remotePath,
        TreeTransferOptions options,
        Func<TreeTransfer, Func<TreeEvent, ValueTask>, Action<long>, CancellationToken, Task<TreeSummary>> walk,
        CancellationToken cancellationToken)
    {
        var output = new TransferOutput(console, operation, json, quiet, options.DryRun);
        ProgressBar? bar = null;
        options.Planned = (_, bytes) => (bar ??= new ProgressBar(console, quiet || json, RemotePath.Escape(remotePath), bytes)).SetTotal(bytes);
        var transfer = new TreeTransfer(connect, algorithm, options);
        TreeSummary summary;
        try
        {
            summary = await retry.ExecuteAsync(async token => await walk(transfer, async item =>
            {
                // Any line printed for an item starts on a clean line, not after the bar.
                bar?.Clear();
                await output.OnEventAsync(item);
            }, bytes => bar?.Advance(bytes), token), cancellationToken);
        }
        catch (FileXferException ex) when (!ex.IsRemote && ex.Code == ErrorCode.BadRequest)
        {
            // A request refused before it was sent (a --delete guard): its line starts clean, not after the bar.
            bar?.Clear();
            throw;
        }

        bar?.Complete();
        return await output.FinishAsync(summary);
    }

    /// <summary>Runs one transfer under a progress bar, which is completed when it succeeds and cleared when it fails.</summary>
    private async Task<TransferResult> WithBarAsync(string remotePath, long? total, Func<Action<long>, Task<TransferResult>> transfer)
    {
        var progress = new ProgressBar(console, quiet, RemotePath.Escape(remotePath), total);
        try
        {
            var result = await transfer(progress.Advance);
            progress.Complete();
            return result;
        }
        catch (Exception)
        {
            progress.Clear();
            throw;
        }
    }

    /// <summary>
    /// Runs one file's transfer; with --json reports it as one object and a summary, and a failure as a failed
    /// object (the exit code still says what kind of failure).
    /// </summary>
    private async Task<ExitCode> ReportAsync(string operation, string localPath, string remotePath, Func<Task<TransferResult>> transfer)
    {
        var output = new TransferOutput(console, operation, json, quiet, dryRun: false);
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
            var (verb, shown) = operation == "put" ? ("stored", result.RemotePath) : ("saved", localPath);
            var resumed = result.ResumedFrom > 0 ? $", resumed after {ByteSize.Format(result.ResumedFrom)}" : string.Empty;
            await console.Out.WriteLineAsync($"{verb} {RemotePath.Escape(shown)} ({ByteSize.Format(result.Size)}, {result.HashAlgorithm} {result.HashHex}{resumed})");
        }

        return ExitCode.Ok;
    }
}
