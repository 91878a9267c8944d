using System.Net.Sockets;
using System.Security.Cryptography;
using FileXfer.Protocol.Ranges;
using FileXfer.Protocol.Transfer;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client;

/// <summary>
/// One connection's share of a file sent in ranges (ParallelStreams): a range's put, resumable within the range and
/// checked by its own hash; the Assemble that names the uploaded file; a range's get. <see cref="ParallelTransfer"/>
/// runs them over several connections.
/// </summary>
public sealed partial class FileXferClient
{
    /// <summary>
    /// Sends one range of a file of <paramref name="size"/> bytes as part of <paramref name="transferId"/>; the server
    /// proves what it holds of the range and only the rest is sent. Returns the bytes of the range it already held.
    /// </summary>
    internal Task<long> PutRangeAsync(FilePart part, string remote, long size, byte[] transferId, Action<long>? progress, CancellationToken cancellationToken)
    {
        RequireCapability(Capabilities.ParallelStreams);
        var algorithm = _options.HashAlgorithm;
        var range = part.Range;
        return RunAsync(async id =>
        {
            await _writer.WriteAsync(RangeMessages.Put(id, remote, size, algorithm, transferId, range), cancellationToken);
            var ready = await ReadResponseAsync(id, MessageType.Ready, cancellationToken);
            var (start, hasher) = await ProveHeldAsync(ready, part, range.Length, algorithm, progress, cancellationToken);
            using var _ = hasher;
            await _writer.WriteAsync(Messages.ResumeFrom(id, start), cancellationToken);
            // A range's Put carries no BodyEncoding: its body goes plain, compressed or not.
            var hash = await SendUploadBodyAsync(part, range.Length - start, hasher, id, progress, plain: true, cancellationToken);
            await ReadStoredHashAsync(id, remote, algorithm, hash, cancellationToken);
            return start;
        }, cancellationToken);
    }

    /// <summary>
    /// Sends ranges of the file open as <paramref name="handle"/> taken from <paramref name="queue"/>, one after the other,
    /// until the queue is empty; each is a range's put as in <see cref="PutRangeAsync"/>. The next range's Put goes out
    /// right behind the previous range's BodyEnd, before its Ok is read. Once the server held nothing of a range this
    /// connection sent, and where it agreed to <see cref="Capabilities.EagerRanges"/>, the next ranges go without waiting
    /// for Ready (their bytes right behind their Put): the server most likely holds none of them either, and a connection
    /// then never waits a round trip between ranges. Returns the bytes of its ranges the server already held.
    /// </summary>
    internal Task<long> PutRangesAsync(SafeFileHandle handle, RangeQueue queue, string remote, long size, byte[] transferId, Action<long>? progress, CancellationToken cancellationToken)
    {
        RequireCapability(Capabilities.ParallelStreams);
        var algorithm = _options.HashAlgorithm;
        bool canBeEager = Capabilities.HasFlag(Capabilities.EagerRanges);
        return RunAsync(async id =>
        {
            long held = 0;
            bool eager = false;
            (uint Id, byte[] Hash)? unanswered = null;
            if (!queue.TryTake(out _, out var range))
            {
                return held;
            }

            while (true)
            {
                await using var part = new FilePart(handle, range);
                await _writer.WriteAsync(RangeMessages.Put(id, remote, size, algorithm, transferId, range, eager), cancellationToken);
                byte[] hash;
                if (eager)
                {
                    using var hasher = HashAlgorithms.Create(algorithm);
                    hash = await SendUploadBodyAsync(part, range.Length, hasher, id, progress, plain: true, cancellationToken);
                    await ReadRangeOkAsync(unanswered, remote, algorithm, cancellationToken);
                }
                else
                {
                    await ReadRangeOkAsync(unanswered, remote, algorithm, cancellationToken);
                    var ready = await ReadResponseAsync(id, MessageType.Ready, cancellationToken);
                    var (start, hasher) = await ProveHeldAsync(ready, part, range.Length, algorithm, progress, cancellationToken);
                    using (hasher)
                    {
                        await _writer.WriteAsync(Messages.ResumeFrom(id, start), cancellationToken);
                        hash = await SendUploadBodyAsync(part, range.Length - start, hasher, id, progress, plain: true, cancellationToken);
                    }

                    held += start;
                    eager = canBeEager && (ready.GetSizeOrNull(FieldTag.Offset) ?? 0) == 0;
                }

                unanswered = (id, hash);
                if (!queue.TryTake(out _, out range))
                {
                    var (lastId, lastHash) = unanswered.Value;
                    await ReadStoredHashAsync(lastId, remote, algorithm, lastHash, cancellationToken);
                    return held;
                }

                id = ++_nextRequestId;
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Reads the Ok of the range sent before the one now on its way, if any. An error there leaves the connection out of
    /// step (the next range's Put, perhaps its bytes, follow it), so the connection is given up.
    /// </summary>
    private async Task ReadRangeOkAsync((uint Id, byte[] Hash)? unanswered, string remote, string algorithm, CancellationToken cancellationToken)
    {
        if (unanswered is not { } previous)
        {
            return;
        }

        try
        {
            await ReadStoredHashAsync(previous.Id, remote, algorithm, previous.Hash, cancellationToken);
        }
        catch (FileXferException)
        {
            _broken = true;
            throw;
        }
    }

    /// <summary>
    /// Names the file whose ranges the server holds for <paramref name="transferId"/>, when its whole-file hash is
    /// <paramref name="hash"/>; answered once it is durable under its name.
    /// </summary>
    internal Task AssembleAsync(string remote, long size, byte[] transferId, byte[] hash, DateTimeOffset? modified, int? mode, CancellationToken cancellationToken)
    {
        var algorithm = _options.HashAlgorithm;
        return RunAsync(async id =>
        {
            await _writer.WriteAsync(RangeMessages.Assemble(id, remote, size, algorithm, transferId, hash, modified, mode), cancellationToken);
            await ReadStoredHashAsync(id, remote, algorithm, hash, cancellationToken);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Receives one range of a remote file into <paramref name="part"/>, offering the first <paramref name="held"/> bytes
    /// it holds; checks the range's hash. Returns the file's size, time and mode as the server described it, and where
    /// the body started within the range.
    /// </summary>
    internal Task<RangeReceived> GetRangeAsync(FilePart part, string remote, long held, Action<long>? progress, CancellationToken cancellationToken)
    {
        RequireCapability(Capabilities.ParallelStreams);
        return RunAsync(async id =>
        {
            var hasher = await SendRangeGetAsync(id, part, remote, held, cancellationToken);
            return await ReceiveRangeAsync(id, part, remote, held, hasher, progress, cancellationToken);
        }, cancellationToken);
    }

    /// <summary>
    /// Receives ranges taken from <paramref name="queue"/> into the file open as <paramref name="handle"/>, one after the
    /// other, until the queue is empty: range i offering the first <paramref name="held"/>[i] bytes it holds, and
    /// reporting through <paramref name="hold"/> how many bytes of it were written from its start (all, or up to where
    /// it stopped), and to <paramref name="written"/>[i] (the whole-file hash's view of range i) each byte it keeps. The next range's Get goes out
    /// while the current one's body still arrives, once what is left of it would take about three round trips at this
    /// connection's rate (<see cref="RangeReceiveRate"/>), so the server sends the next range right behind the current
    /// one's BodyEnd and the connection does not wait a round trip between ranges, yet holds no range long before it
    /// starts it. A range whose bytes do not match the server's hash (corrupted
    /// in flight) is given back to the queue once and fetched again from its first byte; the connection stays in step.
    /// </summary>
    internal Task GetRangesAsync(SafeFileHandle handle, RangeQueue queue, string remote, IReadOnlyList<long> held, Action<int, long> hold, RangeReceived[] received, IReadOnlyList<WrittenRange>? written, Action<long>? progress, CancellationToken cancellationToken)
    {
        RequireCapability(Capabilities.ParallelStreams);
        return RunAsync(async id =>
        {
            if (!queue.TryTake(out int index, out var range))
            {
                return true;
            }

            ContentHasher hasher;
            await using (var first = new FilePart(handle, range))
            {
                hasher = await SendRangeGetAsync(id, first, remote, Offered(queue, held, index), cancellationToken);
            }

            while (true)
            {
                // Until its body starts, the range holds what it held: a failure before then keeps that for the retry.
                long offered = Offered(queue, held, index);
                await using var part = new FilePart(handle, range) { Position = offered };
                int current = index;
                int nextIndex = -1;
                uint nextId = 0;
                FileRange next = default;
                ContentHasher? nextHasher = null;
                bool corrupted = false;
                try
                {
                    received[index] = await ReceiveRangeAsync(id, part, remote, offered, hasher, Kept, cancellationToken, async () =>
                    {
                        if (queue.TryTake(out nextIndex, out next))
                        {
                            nextId = ++_nextRequestId;
                            await using var nextPart = new FilePart(handle, next);
                            nextHasher = await SendRangeGetAsync(nextId, nextPart, remote, Offered(queue, held, nextIndex), cancellationToken);
                            await _writer.FlushAsync(cancellationToken);
                        }
                    });
                }
                catch (FileXferException ex) when (ex is { Code: ErrorCode.IntegrityMismatch, IsRemote: false } && GiveBack(queue, current, hold, written))
                {
                    // Its BodyEnd was read, so the connection is in step: the range is taken again (by this connection if
                    // no other is free), and what the whole-file hash read of it is read again.
                    corrupted = true;
                }
                catch (Exception) when (nextHasher is not null)
                {
                    // The next range's Get is already on its way: the connection is out of step and is given up.
                    _broken = true;
                    nextHasher.Dispose();
                    throw;
                }
                finally
                {
                    if (!corrupted)
                    {
                        hold(index, part.Position);
                    }
                }

                if (nextHasher is null)
                {
                    // The queue was empty when this range asked for its next, or its body ended before it asked; a range
                    // given back since is taken here.
                    if (!queue.TryTake(out nextIndex, out next))
                    {
                        return true;
                    }

                    nextId = ++_nextRequestId;
                    await using var nextPart = new FilePart(handle, next);
                    nextHasher = await SendRangeGetAsync(nextId, nextPart, remote, Offered(queue, held, nextIndex), cancellationToken);
                }

                (id, index, range, hasher) = (nextId, nextIndex, next, nextHasher);

                void Kept(long bytes)
                {
                    progress?.Invoke(bytes);
                    written?[current].Wrote(bytes);
                }
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Gives range <paramref name="index"/>, whose bytes failed their check, back to <paramref name="queue"/> unless it was
    /// given back before; it holds nothing from then on. The range is forgotten (<paramref name="hold"/>, the
    /// whole-file hash's <paramref name="written"/>) before it is given back: another connection may take it at once, and what it
    /// writes must not be forgotten after.
    /// </summary>
    private static bool GiveBack(RangeQueue queue, int index, Action<int, long> hold, IReadOnlyList<WrittenRange>? written)
    {
        if (queue.WasGivenBack(index))
        {
            return false;
        }

        hold(index, 0);
        written?[index].Rewind(0);
        return queue.TryGiveBack(index);
    }

    /// <summary>What range <paramref name="index"/> offers of what it held: nothing once it was given back (its bytes were corrupted).</summary>
    private static long Offered(RangeQueue queue, IReadOnlyList<long> held, int index) => queue.WasGivenBack(index) ? 0 : held[index];

    /// <summary>
    /// Sends a range's Get, offering the first <paramref name="held"/> bytes of <paramref name="part"/> by their hash.
    /// Returns the hasher holding those bytes, for the rest of the range to follow.
    /// </summary>
    private async Task<ContentHasher> SendRangeGetAsync(uint id, FilePart part, string remote, long held, CancellationToken cancellationToken)
    {
        var algorithm = _options.HashAlgorithm;
        var hasher = HashAlgorithms.Create(algorithm);
        try
        {
            byte[]? heldHash = null;
            if (held > 0)
            {
                part.Position = 0;
                await BodyCopier.CopyExactlyAsync(part, Stream.Null, held, hasher, progress: null, cancellationToken);
                heldHash = hasher.GetCurrentHash();
            }

            await _writer.WriteAsync(RangeMessages.Get(id, remote, algorithm, part.Range, held, heldHash), cancellationToken);
            return hasher;
        }
        catch (Exception)
        {
            hasher.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the answer to a range's Get sent with <see cref="SendRangeGetAsync"/>, then its body into
    /// <paramref name="part"/> and its BodyEnd, and checks the range's hash. <paramref name="askNext"/> runs while the body
    /// arrives, once what is left of it is within this connection's lead (<see cref="ReceiveRangeBodyAsync"/>), or not at all. Disposes of <paramref name="hasher"/>.
    /// </summary>
    private async Task<RangeReceived> ReceiveRangeAsync(uint id, FilePart part, string remote, long held, ContentHasher hasher, Action<long>? progress, CancellationToken cancellationToken, Func<Task>? askNext = null)
    {
        var algorithm = _options.HashAlgorithm;
        var range = part.Range;
        try
        {
            var data = await ReadResponseAsync(id, MessageType.Data, cancellationToken);
            if (data.GetString(FieldTag.HashAlgorithm) != algorithm || RangeMessages.ReadRange(data) != range)
            {
                throw new ProtocolViolationException($"server answered a get of range {range} with another range or algorithm");
            }

            long start = data.GetSizeOrNull(FieldTag.Offset) ?? 0;
            if (start == 0 && held > 0)
            {
                hasher.Dispose();
                hasher = HashAlgorithms.Create(algorithm);
            }
            else if (start != 0 && start != held)
            {
                throw new ProtocolViolationException($"server resumed range {range} at {start}, which this client did not offer");
            }

            progress?.Invoke(start);
            part.Position = start;
            await ReceiveRangeBodyAsync(part, range.Length - start, hasher, progress, askNext, cancellationToken);
            var end = await ReadResponseAsync(id, MessageType.BodyEnd, cancellationToken);
            if (end.GetString(FieldTag.HashAlgorithm) != algorithm || !CryptographicOperations.FixedTimeEquals(hasher.GetHashAndReset(), end.GetBytes(FieldTag.HashValue)))
            {
                throw new FileXferException(ErrorCode.IntegrityMismatch, $"the bytes received for range {range} of '{RemotePath.Escape(remote)}' do not match the server's hash");
            }

            return new RangeReceived(data.GetSize(FieldTag.Size), Messages.ReadModified(data), Messages.ReadMode(data), start);
        }
        finally
        {
            hasher.Dispose();
        }
    }

    /// <summary>
    /// Reads <paramref name="length"/> bytes of a range's body into <paramref name="part"/>, running
    /// <paramref name="askNext"/> once what is left, less what arrived but is not read yet, is within this connection's
    /// lead (<see cref="RangeReceiveRate"/>): the body is read in one piece up to there. While no rate is known yet it is
    /// read 1 MiB at a time, and a body that ends first leaves <paramref name="askNext"/> unrun (the caller then asks
    /// after the BodyEnd).
    /// </summary>
    private async Task ReceiveRangeBodyAsync(FilePart part, long length, ContentHasher hasher, Action<long>? progress, Func<Task>? askNext, CancellationToken cancellationToken)
    {
        var rate = _rangeRate ??= new RangeReceiveRate(_options.TimeProvider);
        rate.Start();
        long remaining = length;
        while (askNext is not null)
        {
            // What is left beyond what already arrived and is not read yet: a busy client reads behind its socket, and a
            // range's tail held behind a lost packet becomes readable all at once when the retransmission fills the hole.
            var lead = rate.Lead(RoundTrip);
            long toCome = remaining - UnreadBytes();
            if (lead is { } known && toCome <= known)
            {
                await askNext();
                break;
            }

            long piece = Math.Min(remaining, lead is { } before ? Math.Max(toCome - before, MinimumRangePiece) : UnmeasuredRangePiece);
            if (piece == 0)
            {
                break;
            }

            await _reader.CopyBodyToAsync(part, piece, hasher, Counted, cancellationToken);
            remaining -= piece;
        }

        if (remaining > 0)
        {
            await _reader.CopyBodyToAsync(part, remaining, hasher, Counted, cancellationToken);
        }

        void Counted(long bytes)
        {
            rate.Received(bytes);
            progress?.Invoke(bytes);
        }
    }

    /// <summary>The bytes that arrived on this connection and are not read yet (the kernel's receive queue); 0 when unknown.</summary>
    private long UnreadBytes()
    {
        try
        {
            return _socket.Available;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return 0;
        }
    }

    /// <summary>The piece of a range's body read before the rate is looked at again, while none is known.</summary>
    private const long UnmeasuredRangePiece = 1024 * 1024;

    /// <summary>The smallest piece of a range's body read before the lead is looked at again.</summary>
    private const long MinimumRangePiece = 64 * 1024;

    /// <summary>What a ranged get learned of the file, and where its body started within the range.</summary>
    internal sealed record RangeReceived(long Size, DateTimeOffset? Modified, int? Mode, long Start);
}
