using System.Threading.Channels;

namespace FileXfer.Client.Sync;

/// <summary>
/// Directory-tree transfers, the way backups need them, at any size: both trees are walked together one
/// directory at a time (<see cref="TreeWalk"/>), listings pipelined on one connection, and each file to send is
/// handed at once to <see cref="TreeTransferOptions.Parallel"/> transfer connections, so transfers start while the
/// walk goes on and memory follows the widest directory and the transfer window, not the tree. Incremental (a file
/// whose size and modification time match is skipped, or with <see cref="TreeTransferOptions.Checksum"/> whose hash
/// matches); a failed file does not stop the rest; each item is reported as it finishes. One instance serves one
/// command: run again after a failure (a retry), it resumes where the failed run stopped (<see cref="TreeProgress"/>).
/// Library code: no console.
/// </summary>
public sealed partial class TreeTransfer
{
    /// <summary>How many directories are read ahead of the one being compared.</summary>
    public const int ReadAhead = 16;

    /// <summary>
    /// Files at least this large go on their own, resumably (a retry sends only what the other side does not hold, as
    /// a single put or get does); smaller ones go pipelined.
    /// </summary>
    public const long ResumableSize = 16L * 1024 * 1024;

    private readonly Func<CancellationToken, Task<FileXferClient>> _connect;
    private readonly TreeTransferOptions _options;
    private readonly string _algorithm;
    private int _attempts;

    public TreeTransfer(Func<CancellationToken, Task<FileXferClient>> connect, string hashAlgorithm, TreeTransferOptions? options = null)
    {
        _connect = connect ?? throw new ArgumentNullException(nameof(connect));
        _algorithm = hashAlgorithm ?? throw new ArgumentNullException(nameof(hashAlgorithm));
        _options = options ?? new TreeTransferOptions();
    }

    /// <summary>What the runs of this instance have done so far (kept across retries).</summary>
    public TreeProgress Progress { get; } = new();

    /// <summary>
    /// Starts an attempt; true when the transfer connections may open beside the listing connection rather than after
    /// it. Only the first attempt does: connections in their handshake are what a server at its limit evicts for newer
    /// ones (the oldest first; this server only once one has been in its handshake for its --eviction-age, a second by default; older servers at once), so near the limit the listing connection could be pushed out by its own transfer
    /// connections; a retry connects it first, and a transfer connection the server then refuses leaves its files to
    /// the others.
    /// </summary>
    private bool BeginAttempt() => Interlocked.Increment(ref _attempts) == 1;

    /// <summary>A file queued for a transfer connection.</summary>
    private sealed record QueuedTransfer(TransferItem Item, long Size, DirectoryNode Node, string Name);

    /// <summary>
    /// One transfer connection's loop: the small files at the head of the queue go through <paramref name="batch"/>,
    /// pipelined, until a large one comes; that one goes alone through <paramref name="one"/> (resumably); each
    /// outcome goes to <paramref name="report"/>. A failure of the connection ends the loop with its exception.
    /// </summary>
    private static async Task TransferWorkAsync(
        Attempt attempt,
        ChannelReader<QueuedTransfer> reader,
        Func<QueuedTransfer, Task<TransferResult>> one,
        Func<IAsyncEnumerable<TransferItem>, Func<BatchItemResult, ValueTask>, Task> batch,
        Func<QueuedTransfer, long, string?, Exception?, ValueTask> report)
    {
        while (await reader.WaitToReadAsync(attempt.Token))
        {
            if (reader.TryPeek(out var next) && next.Size >= ResumableSize)
            {
                if (reader.TryRead(out var large))
                {
                    TransferResult? result = null;
                    Exception? error = null;
                    try
                    {
                        result = await one(large);
                    }
                    catch (Exception ex) when (IsItemFailure(ex))
                    {
                        error = ex;
                    }

                    if (result is { ParentTimeNotSet: true })
                    {
                        large.Node.MarkParentTimeNotSet();
                    }

                    await report(large, result?.Size ?? 0, result?.HashHex, error);
                }

                continue;
            }

            await batch(
                attempt.SmallFilesAsync(reader, attempt.Token),
                result =>
                {
                    var item = attempt.Take(result.RemotePath);
                    if (result.ParentTimeNotSet)
                    {
                        // Before the report finishes the item: the directory is judged (NeedsLastPass) once all its items are.
                        item.Node.MarkParentTimeNotSet();
                    }

                    return report(item, result.Bytes, result.HashHex, result.Error);
                });
        }
    }

    /// <summary>
    /// A vanished or changed source is a warning (exit 24), anything else a failure: for a put the local file (gone,
    /// changed while read), for a get the remote one (gone).
    /// </summary>
    private static ItemStatus Classify(Exception? error, bool remoteSource) => error switch
    {
        null => ItemStatus.Transferred,
        SourceChangedException => ItemStatus.Vanished,
        FileNotFoundException or DirectoryNotFoundException when !remoteSource => ItemStatus.Vanished,
        FileXferException { Code: ErrorCode.NotFound, IsRemote: true } when remoteSource => ItemStatus.Vanished,
        _ => ItemStatus.Failed,
    };

    /// <summary>True for a failure of one item that leaves the connection usable: reported, and the run goes on.</summary>
    private static bool IsItemFailure(Exception error) => error switch
    {
        ConnectionLostException or ProtocolViolationException or OperationCanceledException => false,
        FileXferException { IsRemote: true } => true,
        SourceChangedException or LocalWriteException => true,
        IOException or UnauthorizedAccessException => true,
        _ => false,
    };

    /// <summary>
    /// Reads what the walk needs of a directory: the local side on the thread pool, the remote side through the
    /// listing queue, at once. A side that cannot be read is given as its error (a failure of the connection is
    /// raised instead: the attempt cannot go on).
    /// </summary>
    internal static async Task<DirectoryPair> FetchAsync(DirectoryJob job, string localTop, string remoteRoot, RequestQueue requests, Task<DirectoryListing>? listed = null)
    {
        var remote = job.Remote ? listed ?? requests.ListAsync(RemotePath.Combine(remoteRoot, job.Relative)) : null;
        List<LocalEntry>? local = null;
        Exception? localError = null;
        if (job.Local)
        {
            try
            {
                local = await Task.Run(() => LocalDirectory.Read(LocalPath(localTop, job.Relative)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                localError = ex;
            }
        }

        DirectoryListing? listing = null;
        Exception? remoteError = null;
        if (remote is not null)
        {
            try
            {
                listing = await remote;
            }
            catch (FileXferException ex) when (ex.IsRemote && ex is not ProtocolViolationException)
            {
                remoteError = ex;
            }
        }

        return new DirectoryPair(job, local, listing, localError, remoteError);
    }

    /// <summary>A local path below <paramref name="top"/> for a relative tree path.</summary>
    private static string LocalPath(string top, string relative) =>
        relative.Length == 0 ? top : Path.Join(top, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>A local path as the user gave its top directory, so output shows paths the way they were typed.</summary>
    private static string Shown(string localDirectory, string relative) =>
        Path.Join(localDirectory, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Whether a file takes part, by the filter.</summary>
    private bool Includes(string path, EntryKind kind) =>
        kind == EntryKind.Directory ? _options.Filter.IncludesDirectory(path) : _options.Filter.IncludesFile(path);
}
