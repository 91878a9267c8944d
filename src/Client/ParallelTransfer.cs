using FileXfer.Client.Resilience;
using FileXfer.Protocol.Ranges;

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
public static partial class ParallelTransfer
{
    /// <summary>The most streams one file is cut into.</summary>
    public const int MaxStreams = 16;

    /// <summary>Streams chosen when none is asked for and the link is long (<see cref="ChooseStreams"/>).</summary>
    public const int DefaultLongLinkStreams = 4;

    /// <summary>
    /// Streams chosen when none is asked for and the round trip is at least <see cref="FarRoundTrip"/>. On the test bed
    /// (80 ms, 0.5% loss each way, 200 Mbit/s; docs/performance/issue-17-wan-w1-w5.md, run W5) 200 MiB took 10.1 s over
    /// 6 streams (medians of 5 and 7 interleaved rounds: 10.1 and 10.1 s; 5 streams 10.1 s, 8 streams 10.4 s) against
    /// 10.7 and 10.6 s over 4 (10.1–11.5 s: with fewer connections the one a loss slows down weighs more). At 20 ms
    /// 6 streams gained nothing (9.16 s against 9.08 s over 4, and more spread), hence 4 below.
    /// </summary>
    public const int DefaultFarLinkStreams = 6;

    /// <summary>Files below this size always go over one connection: their ranges would be too short to gain.</summary>
    public const long MinimumSize = 16L * 1024 * 1024;

    /// <summary>
    /// The shortest range a file is cut into (<see cref="FileRange.Schedule"/>), but for the file's last: the last ranges
    /// decide how closely the connections finish together, and a range costs its connection a round trip only where the
    /// server lacks <see cref="Capabilities.EagerRanges"/> (or held part of the file).
    /// </summary>
    public const long MinimumRange = 2L * 1024 * 1024;

    /// <summary>
    /// A ranged get's whole-file hash is woken to follow the received prefix for at least this many new bytes (or a
    /// range's end): each wake costs a thread-pool hand-off, and a get's ranges arrive in small writes.
    /// </summary>
    internal const long HashWakeBytes = 256 * 1024;

    /// <summary>The round trip from which more than one stream is chosen by default.</summary>
    public static readonly TimeSpan LongRoundTrip = TimeSpan.FromMilliseconds(10);

    /// <summary>The round trip from which <see cref="DefaultFarLinkStreams"/> are chosen by default (as a tree's long link).</summary>
    public static readonly TimeSpan FarRoundTrip = TimeSpan.FromMilliseconds(40);

    /// <summary>
    /// The streams chosen by default over a link of <paramref name="roundTrip"/> of at least <see cref="LongRoundTrip"/>:
    /// <see cref="DefaultFarLinkStreams"/> from <see cref="FarRoundTrip"/>, else <see cref="DefaultLongLinkStreams"/>.
    /// </summary>
    public static int DefaultStreams(TimeSpan roundTrip) => roundTrip >= FarRoundTrip ? DefaultFarLinkStreams : DefaultLongLinkStreams;

    /// <summary>
    /// The streams to use for a file of <paramref name="size"/> bytes: <paramref name="requested"/> when given (1 turns
    /// streams off), else <see cref="DefaultStreams"/> for a file of at least <see cref="MinimumSize"/> over a
    /// connection whose round trip is at least <see cref="LongRoundTrip"/> and that does not compress, else 1. Never more than
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
        int streams = requested ?? (client.Compresses || client.RoundTrip < LongRoundTrip ? 1 : DefaultStreams(client.RoundTrip));
        return Math.Clamp(streams, 1, MaxStreams);
    }

    /// <summary>
    /// Uploads a local file over <paramref name="streams"/> connections (<see cref="ChooseStreams"/> decides how many when
    /// null), all from <paramref name="connect"/>; the first is the one that describes the server and the link, and sends
    /// the Assemble. The file is named only after the server assembled every range and its hash of the whole file equals
    /// the client's. With <paramref name="early"/> (the run the connections belong to), a file that may go in ranges
    /// opens its other connections as soon as the first one's TCP connection measured a long round trip
    /// (<see cref="ClientRun.WhenLinkMeasured"/>), so their TCP and FileXfer handshakes overlap the first one's rather
    /// than follow its authentication; those it then does not need are closed. Pass it on a first attempt only: a
    /// server at its connection limit evicts the oldest connection still in its handshake (this server once it has been
    /// there for its --eviction-age, a second by default; older servers at once), which could be the first one, so a retry connects the first one before the others (as a tree's retry does).
    /// </summary>
    public static async Task<TransferResult> UploadFileAsync(
        Func<CancellationToken, Task<FileXferClient>> connect,
        ClientRun? early,
        string localPath,
        string remotePath,
        int? streams,
        Action<long>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connect);
        if (streams == 1 || LocalSource.IsReadOnce(localPath))
        {
            // A FIFO is read once, by the one-connection put: it must not be opened here first.
            await using var only = await connect(cancellationToken);
            return await only.UploadFileAsync(localPath, remotePath, progress, cancellationToken);
        }

        await using var source = await LocalSource.OpenAsync(localPath, cancellationToken);
        long size = source.Size;
        int planned = source.IsOpenEnded || source.Handle is null ? 1 : MostStreams(size, streams);
        using var attempt = new Attempt(cancellationToken);
        await using var extras = new Extras(connect, attempt);
        await using var first = await ConnectFirstAsync(connect, planned > 1 ? early : null, extras, planned - 1, streams, cancellationToken);
        int count = planned == 1 ? 1 : ChooseStreams(first, size, streams);
        if (count == 1)
        {
            await extras.DisposeAsync();
            await source.DisposeAsync();
            return await first.UploadFileAsync(localPath, remotePath, progress, cancellationToken);
        }

        var remote = RemotePath.Normalize(remotePath);
        var algorithm = first.HashAlgorithm;
        var queue = new RangeQueue(FileRange.Schedule(size, count, MinimumRange));
        count = Math.Min(count, queue.Ranges.Count);

        // A name for this source to this destination cut for this many streams, the same on every retry: the server's
        // held ranges are offered again, and proven by their hashes.
        var transferId = ResumeKeys.For(source, remote, algorithm, FormattableString.Invariant($"schedule {count} {MinimumRange}"));
        var token = attempt.Token;

        // The whole-file hash needs one pass in order: it reads the file (from the page cache, which the ranges fill)
        // while the ranges are sent, on its own, so it costs time only when it is slower than the link.
        var whole = Task.Run(() => HashRangeAsync(source.Handle!, new FileRange(0, size), algorithm, token), token);
        long resumed = 0;
        async Task<bool> SendAsync(FileXferClient client)
        {
            Interlocked.Add(ref resumed, await client.PutRangesAsync(source.Handle!, queue, remote, size, transferId, progress, token));
            return true;
        }

        var sends = extras.Keep(count - 1, queue.Drained).Select(extra => extras.RunAsync(extra, SendAsync)).Prepend(OnConnectionAsync(first, SendAsync, attempt));
        await attempt.WhenAllAsync(sends.ToList());
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
    /// server on one more connection meanwhile, is compared with the client's before the rename. The client's hash
    /// follows the received prefix while the ranges arrive (<see cref="WrittenPrefixHasher"/>), so after the last
    /// range only what it had not reached is hashed. What <paramref name="state"/> holds of each range (from an earlier
    /// attempt of the same command) is offered again. The other connections open once the file's size is known (the
    /// first connection's Stat, or <paramref name="knownSize"/>): a file below <see cref="MinimumSize"/> opens none.
    /// </summary>
    public static async Task<TransferResult> DownloadFileAsync(
        FileXferClient first,
        Func<CancellationToken, Task<FileXferClient>> connect,
        string remotePath,
        string localPath,
        int? streams,
        RangedDownloadState state,
        long? knownSize,
        Action<long>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(connect);
        ArgumentNullException.ThrowIfNull(state);
        var remote = RemotePath.Normalize(remotePath);
        long size = first.Capabilities.HasFlag(Capabilities.ParallelStreams) && SpecialFiles.Check(localPath, FileAccess.Write) == LocalFileKind.Other
            ? knownSize ?? (await first.StatAsync(remote, cancellationToken)).Size
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

        using var attempt = new Attempt(cancellationToken);
        await using var extras = new Extras(connect, attempt);
        var token = attempt.Token;
        var queue = new RangeQueue(ranges);

        // The connections open before the local file is prepared; the server's hash of the whole file is asked on one
        // more, opened first.
        var hashing = extras.OpenAside();
        var kept = extras.Keep(count - 1, queue.Drained);
        await using var download = LocalDownload.OpenResumable(localPath);
        var held = state.Begin(download.Temp, size, ranges);
        if (held.All(h => h == 0))
        {
            // Nothing of it is known to this command: what the file held belongs to no range.
            download.Restart();
        }

        download.File!.SetLength(size);
        var handle = download.File.Handle;
        var received = new FileXferClient.RangeReceived[ranges.Count];
        try
        {
            await using var follower = new WrittenPrefixHasher(handle, size, algorithm, HashWakeBytes);
            var written = ranges.Select(follower.Add).ToArray();
            var serverHash = extras.RunAsync(hashing, client => client.HashAsync(remote, algorithm, token));
            Task<bool> ReceiveAsync(FileXferClient client) => GetRangesAsync(client, handle, queue, remote, held, state, received, written, progress, token);
            await attempt.WhenAllAsync(kept.Select(extra => extras.RunAsync(extra, ReceiveAsync)).Prepend(OnConnectionAsync(first, ReceiveAsync, attempt)).ToList());
            await attempt.WhenAllAsync([serverHash]);

            // Refused a connection of its own (a busy server), the server's hash is asked on the first one.
            var theirs = await serverHash ?? await first.HashAsync(remote, algorithm, cancellationToken);
            var ours = await follower.FinishAsync(cancellationToken);
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

    private static async Task<bool> GetRangesAsync(FileXferClient client, Microsoft.Win32.SafeHandles.SafeFileHandle handle, RangeQueue queue, string remote, long[] held, RangedDownloadState state, FileXferClient.RangeReceived[] received, WrittenRange[] written, Action<long>? progress, CancellationToken cancellationToken)
    {
        await client.GetRangesAsync(handle, queue, remote, held, state.Hold, received, written, progress, cancellationToken);
        return true;
    }

    /// <summary>
    /// The most streams a file of <paramref name="size"/> bytes may go in, before the server and the link are known
    /// (<see cref="ChooseStreams"/> decides once they are): 1 below <see cref="MinimumSize"/> or when 1 is asked for.
    /// </summary>
    private static int MostStreams(long size, int? requested) =>
        size < MinimumSize || requested == 1 ? 1 : Math.Clamp(requested ?? DefaultFarLinkStreams, 1, MaxStreams);

    /// <summary>
    /// The first connection. With <paramref name="early"/>, up to <paramref name="extra"/> more are opened as soon as its
    /// TCP connection is up when the kernel measured a round trip of at least <see cref="LongRoundTrip"/> on it (as many
    /// as <paramref name="requested"/> or <see cref="DefaultStreams"/> for that round trip want): on a long link their
    /// handshakes then overlap the first one's (which a short link does not need).
    /// </summary>
    private static async Task<FileXferClient> ConnectFirstAsync(Func<CancellationToken, Task<FileXferClient>> connect, ClientRun? early, Extras extras, int extra, int? requested, CancellationToken cancellationToken)
    {
        var linked = early?.WhenLinkMeasured();
        var connecting = connect(cancellationToken);
        if (linked is not null && await Task.WhenAny(linked, connecting) == linked && await linked is var roundTrip && roundTrip >= LongRoundTrip)
        {
            extras.OpenUpTo(Math.Min(extra, Math.Clamp(requested ?? DefaultStreams(roundTrip), 1, MaxStreams) - 1));
        }

        return await connecting;
    }
}
