using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client;

/// <summary>
/// One large file over several connections at once (ParallelStreams): the file is cut into ranges that the connections
/// take from one queue (<see cref="FileRange.Schedule"/>: long ones first, short ones last, so a connection the link
/// treats worse takes fewer and they all finish together), for a put as for a get; each range is
/// resumable and checked by its own hash, the first connection is the one the caller opened, and the whole-file hash is
/// still checked end to end before the file gets its name. On a long,
/// lossy link one TCP stream cannot fill the pipe; several can. A server without the capability, a small file or one
/// stream fall back to the single-connection transfer.
/// </summary>
public static class ParallelTransfer
{
    /// <summary>The most streams one file is cut into.</summary>
    public const int MaxStreams = 16;

    /// <summary>Streams chosen when none is asked for and the link is long (<see cref="ChooseStreams"/>).</summary>
    public const int DefaultLongLinkStreams = 4;

    /// <summary>Files below this size always go over one connection: their ranges would be too short to gain.</summary>
    public const long MinimumSize = 16L * 1024 * 1024;

    /// <summary>
    /// The shortest range a file is cut into (<see cref="FileRange.Schedule"/>), but for the file's last: the last ranges
    /// decide how closely the connections finish together, and a range costs its connection a round trip only where the
    /// server lacks <see cref="Capabilities.EagerRanges"/> (or held part of the file).
    /// </summary>
    public const long MinimumRange = 2L * 1024 * 1024;

    /// <summary>The round trip from which more than one stream is chosen by default.</summary>
    public static readonly TimeSpan LongRoundTrip = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// The streams to use for a file of <paramref name="size"/> bytes: <paramref name="requested"/> when given (1 turns
    /// streams off), else <see cref="DefaultLongLinkStreams"/> for a file of at least <see cref="MinimumSize"/> over a
    /// connection whose handshake took at least <see cref="LongRoundTrip"/> and that does not compress, else 1. Never more than
    /// <see cref="MaxStreams"/>, never when the server lacks the capability or the file is below <see cref="MinimumSize"/>.
    /// </summary>
    public static int ChooseStreams(FileXferClient client, long size, int? requested)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (!client.Capabilities.HasFlag(Capabilities.ParallelStreams) || size < MinimumSize)
        {
            return 1;
        }

        // A compressed body goes over one connection (ranges are sent plain): on the slow links where streams help,
        // compressible data gains more from being smaller, so compression wins unless streams are asked for.
        int streams = requested ?? (client.Compresses || client.RoundTrip < LongRoundTrip ? 1 : DefaultLongLinkStreams);
        return Math.Clamp(streams, 1, MaxStreams);
    }

    /// <summary>
    /// Uploads a local file over <paramref name="streams"/> connections (<see cref="ChooseStreams"/> decides how many when
    /// null): <paramref name="first"/> and new ones from <paramref name="connect"/>. The file is named only after the
    /// server assembled every range and its hash of the whole file equals the client's.
    /// </summary>
    public static async Task<TransferResult> UploadFileAsync(
        FileXferClient first,
        Func<CancellationToken, Task<FileXferClient>> connect,
        string localPath,
        string remotePath,
        int? streams,
        Action<long>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(connect);
        if (!first.Capabilities.HasFlag(Capabilities.ParallelStreams) || streams == 1 || LocalSource.IsReadOnce(localPath))
        {
            // A FIFO is read once, by the one-connection put: it must not be opened here first.
            return await first.UploadFileAsync(localPath, remotePath, progress, cancellationToken);
        }

        await using var source = await LocalSource.OpenAsync(localPath, cancellationToken);
        int count = source.IsOpenEnded || source.Handle is null ? 1 : ChooseStreams(first, source.Size, streams);
        if (count == 1)
        {
            await source.DisposeAsync();
            return await first.UploadFileAsync(localPath, remotePath, progress, cancellationToken);
        }

        var remote = RemotePath.Normalize(remotePath);
        long size = source.Size;
        var algorithm = first.HashAlgorithm;
        var queue = new RangeQueue(FileRange.Schedule(size, count, MinimumRange));
        count = Math.Min(count, queue.Ranges.Count);

        // A name for this source to this destination cut for this many streams, the same on every retry: the server's
        // held ranges are offered again, and proven by their hashes.
        var transferId = ResumeKeys.For(source, remote, algorithm, FormattableString.Invariant($"schedule {count} {MinimumRange}"));

        using var attempt = new Attempt(cancellationToken);
        var token = attempt.Token;

        // The whole-file hash needs one pass in order: it reads the file (from the page cache, which the ranges fill)
        // while the ranges are sent, on its own, so it costs time only when it is slower than the link.
        var whole = Task.Run(() => HashRangeAsync(source.Handle!, new FileRange(0, size), algorithm, token), token);
        long resumed = 0;
        var sends = Enumerable.Range(0, count).Select(i => OnConnectionAsync(i == 0 ? first : null, connect, async client =>
        {
            long held = await client.PutRangesAsync(source.Handle!, queue, remote, size, transferId, progress, token);
            Interlocked.Add(ref resumed, held);
        }, attempt)).ToList();
        await attempt.WhenAllAsync(sends);
        var hash = await whole;
        await first.AssembleAsync(remote, size, transferId, hash, source.Modified, source.Mode, cancellationToken);
        var result = new TransferResult(remote, size, algorithm, hash, source.Modified, source.Mode) { ResumedFrom = resumed };
        return source.HasChanged()
            ? throw new SourceChangedException($"'{localPath}' changed while it was being sent; the stored copy may not match it")
            : result;
    }

    /// <summary>
    /// Downloads a remote file of at least <see cref="MinimumSize"/> over <paramref name="streams"/> connections into a
    /// temp file beside <paramref name="localPath"/>, each range written in place; the whole file's hash, asked of the
    /// server on one more connection meanwhile, is compared with the client's before the rename. What
    /// <paramref name="state"/> holds of each range (from an earlier attempt of the same command) is offered again.
    /// </summary>
    public static async Task<TransferResult> DownloadFileAsync(
        FileXferClient first,
        Func<CancellationToken, Task<FileXferClient>> connect,
        string remotePath,
        string localPath,
        int? streams,
        RangedDownloadState state,
        Action<long>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(connect);
        ArgumentNullException.ThrowIfNull(state);
        var remote = RemotePath.Normalize(remotePath);
        long size = first.Capabilities.HasFlag(Capabilities.ParallelStreams) && SpecialFiles.Check(localPath, FileAccess.Write) == LocalFileKind.Other
            ? (await first.StatAsync(remote, cancellationToken)).Size
            : 0;
        int count = ChooseStreams(first, size, streams);
        if (count == 1)
        {
            return await first.DownloadFileAsync(remote, localPath, progress, cancellationToken);
        }

        var algorithm = first.HashAlgorithm;
        var ranges = FileRange.Schedule(size, count, MinimumRange);
        count = Math.Min(count, ranges.Count);
        if (LocalDownload.ShortOfRoom(localPath, size) is { } available)
        {
            throw new FileXferException(ErrorCode.InsufficientStorage, $"not enough space on the local disk for '{localPath}': {size} bytes needed, {available} available; nothing was written");
        }

        await using var download = LocalDownload.OpenResumable(localPath);
        var held = state.Begin(download.Temp, size, ranges);
        if (held.All(h => h == 0))
        {
            // Nothing of it is known to this command: what the file held belongs to no range.
            download.Restart();
        }

        download.File!.SetLength(size);
        var handle = download.File.Handle;
        using var attempt = new Attempt(cancellationToken);
        var token = attempt.Token;
        var serverHash = OnConnectionAsync(null, connect, client => client.HashAsync(remote, algorithm, token), attempt);
        var received = new FileXferClient.RangeReceived[ranges.Count];
        try
        {
            // Each range's bytes from its start are written up to where it stopped (all of them once it is received).
            var queue = new RangeQueue(ranges);
            await attempt.WhenAllAsync(Enumerable.Range(0, count).Select(i => OnConnectionAsync(i == 0 ? first : null, connect, client =>
                client.GetRangesAsync(handle, queue, remote, held, state.Hold, received, progress, token), attempt)));
            await attempt.WhenAllAsync([serverHash]);
            var theirs = await serverHash;
            var ours = await HashRangeAsync(handle, new FileRange(0, size), algorithm, cancellationToken);
            var described = received[0];
            if (received.Any(r => r.Size != size || r.Modified != described.Modified) || theirs.Size != size
                || !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(ours, theirs.Hash))
            {
                state.Reset();
                throw new FileXferException(ErrorCode.IntegrityMismatch, $"the ranges received for '{RemotePath.Escape(remote)}' do not make the file the server hashed (it may have changed while it was sent); nothing was saved");
            }

            var result = new TransferResult(remote, size, algorithm, ours, described.Modified, described.Mode) { ResumedFrom = held.Sum() };
            await download.FinishAsync(result, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            LocalCommit.Commit(download);
            state.Reset();
            return result;
        }
        catch (Exception ex) when (ex is ConnectionLostException or OperationCanceledException or TimeoutException or ConnectionFailedException)
        {
            // What arrived is kept for the next attempt of this command, which proves each range before using it.
            download.KeepForResume();
            throw;
        }
        catch (FileXferException)
        {
            state.Reset();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on <paramref name="client"/>, or on a new connection that is closed after it. The first
    /// failure stops the attempt's other connections (<see cref="Attempt"/>), so the attempt fails as one.
    /// </summary>
    private static async Task<T> OnConnectionAsync<T>(FileXferClient? client, Func<CancellationToken, Task<FileXferClient>> connect, Func<FileXferClient, Task<T>> work, Attempt attempt)
    {
        try
        {
            if (client is not null)
            {
                return await work(client);
            }

            await using var own = await connect(attempt.Token);
            return await work(own);
        }
        catch (Exception ex)
        {
            await attempt.FailAsync(ex);
            throw;
        }
    }

    private static Task<bool> OnConnectionAsync(FileXferClient? client, Func<CancellationToken, Task<FileXferClient>> connect, Func<FileXferClient, Task> work, Attempt attempt) =>
        OnConnectionAsync<bool>(client, connect, async c =>
        {
            await work(c);
            return true;
        }, attempt);

    /// <summary>
    /// One attempt's connections: the first failure cancels the others and is the one the attempt reports (the
    /// others then fail only because they were stopped), so retries classify the real cause.
    /// </summary>
    private sealed class Attempt(CancellationToken cancellationToken) : IDisposable
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        private Exception? _first;

        public CancellationToken Token => _stop.Token;

        public Task FailAsync(Exception ex)
        {
            Interlocked.CompareExchange(ref _first, ex, null);
            return _stop.CancelAsync();
        }

        public async Task WhenAllAsync(IEnumerable<Task> tasks)
        {
            try
            {
                await Task.WhenAll(tasks);
            }
            catch (Exception) when (_first is { } first && !cancellationToken.IsCancellationRequested)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            }
        }

        public void Dispose() => _stop.Dispose();
    }

    private static async Task<byte[]> HashRangeAsync(SafeFileHandle handle, FileRange range, string algorithm, CancellationToken cancellationToken)
    {
        await using var part = new FilePart(handle, range);
        return await LocalHasher.HashStreamAsync(part, algorithm, cancellationToken);
    }
}
