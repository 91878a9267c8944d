using System.Buffers;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Server.Handlers;

/// <summary>The requests that read: get, stat, list and hash.</summary>
public sealed partial class FileXferRequestHandler
{
    private async Task<long> GetAsync(Frame request, CancellationToken cancellationToken)
    {
        var algorithm = RequireAlgorithm(request);
        var encoding = RequireEncoding(request);
        var range = RangeMessages.ReadRange(request);
        await using var file = await Store.OpenReadAsync(request.GetString(FieldTag.Path), cancellationToken);
        var content = file.Content;
        var entry = file.Entry;
        var hasher = HashAlgorithms.Create(algorithm);
        // The size is taken once, from the open file, and exactly that many bytes are sent.
        long size = file.Length;

        // A ranged get (ParallelStreams) sends one range of the file, resumable within it, and hashes only the range.
        var part = range ?? new FileRange(0, size);
        if (range is { } asked && !asked.FitsIn(size))
        {
            hasher.Dispose();
            throw new FileXferException(ErrorCode.BadRequest, $"range {asked} is not a nonempty range within the file's {size} bytes");
        }

        long start = 0;
        if (request.GetSizeOrNull(FieldTag.Offset) is > 0 and var offset && offset <= part.Length && request.GetBytesOrNull(FieldTag.HashValue) is { } proof)
        {
            // A resuming client holds the first bytes: continue after them only if they hash the same here. That reads up
            // to the whole file before Data: a client that announced WorkingBeats is told the work goes on.
            content.Position = part.Offset;
            await using (var beat = StartWorkingBeat(request.RequestId, cancellationToken))
            {
                await BodyCopier.CopyExactlyAsync(content, Stream.Null, offset, hasher, progress: beat is null ? null : beat.Add, cancellationToken);
                if (beat is not null)
                {
                    // No Working frame after Data, none inside it.
                    await beat.StopAsync();
                }
            }

            if (System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(hasher.GetCurrentHash(), proof))
            {
                start = offset;
            }
            else
            {
                hasher.Dispose();
                hasher = HashAlgorithms.Create(algorithm);
            }
        }

        content.Position = part.Offset + start;
        using var wholeFileHasher = hasher;

        // A file stored with its verified hash is not hashed again: it goes from the page cache to the socket (sendfile) or
        // through a buffer, and the client checks what arrives against the hash it was stored with. That also catches a
        // file that rotted at rest, which hashing it again here, as it is sent, would not. A range is always hashed.
        var storedHash = range is null && size - start >= StoredHashFrom ? file.StoredHash(algorithm) : null;
        await Writer.WriteAsync(
            Messages.WithEncoding(
                range is { } sent ? RangeMessages.Data(request.RequestId, size, algorithm, entry.ModifiedUtc, entry.Mode, sent, start) : Messages.Data(request.RequestId, size, algorithm, entry.ModifiedUtc, entry.Mode, start),
                encoding),
            cancellationToken);
        _inBody = _sendingBody = true;
        try
        {
            if (storedHash is not null)
            {
                if (encoding == BodyEncoding.ZstdBlocks)
                {
                    // Compressed bytes are made in user space: no sendfile.
                    content.Position = start;
                    await Writer.WriteUnhashedCompressedBodyAsync(content, size - start, cancellationToken);
                }
                else if (_zeroCopy && file.CanSendDirectly)
                {
                    await Writer.FlushAsync(cancellationToken);
                    await file.SendToAsync(Connection.Socket, start, size - start, options.IdleTimeout, Connection.TimeProvider, cancellationToken);
                }
                else
                {
                    await Writer.WriteUnhashedBodyAsync(content, size - start, cancellationToken);
                }

                await Writer.WriteAsync(Messages.BodyEnd(request.RequestId, algorithm, storedHash), cancellationToken);
            }
            else if (encoding == BodyEncoding.ZstdBlocks)
            {
                await Writer.WriteCompressedBodyAsync(content, part.Length - start, hasher, request.RequestId, progress: null, cancellationToken);
            }
            else
            {
                await Writer.WriteBodyAsync(content, part.Length - start, hasher, request.RequestId, progress: null, cancellationToken);
            }
        }
        catch (EndOfStreamException ex)
        {
            throw new FileXferException(ErrorCode.SizeMismatch, "the stored file shrank while it was being sent", ex);
        }

        _inBody = _sendingBody = false;
        return part.Length - start;
    }

    private async Task<long> StatAsync(Frame request, CancellationToken cancellationToken)
    {
        var entry = await Store.StatAsync(request.GetString(FieldTag.Path), cancellationToken);
        await Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, entry), cancellationToken);
        return 0;
    }

    private async Task<long> ListAsync(Frame request, CancellationToken cancellationToken)
    {
        var flags = (ListFlags)(request.GetUInt64OrNull(FieldTag.Flags) ?? 0);
        var path = request.GetString(FieldTag.Path);
        bool recursive = flags.HasFlag(ListFlags.Recursive);
        var nameTag = recursive ? FieldTag.Path : FieldTag.Name;
        bool reportOmitted = _capabilities.HasFlag(Capabilities.ListOmissions);

        // The first level is read before anything is sent, so a bad path is answered with a plain error. Entries
        // are examined and sent as they are enumerated: a listing holds one directory's names, not the tree.
        await using var enumerator = Store.ListAsync(path, recursive, cancellationToken).GetAsyncEnumerator(cancellationToken);
        bool more = await enumerator.MoveNextAsync();
        long count = 0;
        _inBody = true;
        while (more)
        {
            var listed = enumerator.Current;
            if (listed.Omitted is null)
            {
                await Writer.WriteDescribeAsync(MessageType.Entry, request.RequestId, listed.Entry, nameTag, cancellationToken);
                count++;
            }
            else if (reportOmitted)
            {
                await Writer.WriteAsync(Messages.Omitted(request.RequestId, RemotePath.Escape(listed.Entry.Name), listed.Entry.Kind, listed.Omitted), cancellationToken);
            }

            more = await enumerator.MoveNextAsync();
        }

        _inBody = false;
        await Writer.WriteAsync(Messages.EndOfList(request.RequestId, count), cancellationToken);
        return 0;
    }

    private async Task<long> HashAsync(Frame request, CancellationToken cancellationToken)
    {
        var algorithm = RequireAlgorithm(request);

        // Nothing is sent until the whole file is read, which can take longer than the client's idle timeout: a client
        // that announced WorkingBeats is told at an interval that the work goes on (from the open on: an object store's
        // open is a request of its own).
        await using var beat = StartWorkingBeat(request.RequestId, cancellationToken);
        await using var file = await Store.OpenReadAsync(request.GetString(FieldTag.Path), cancellationToken);
        var entry = file.Entry;
        using var hasher = HashAlgorithms.Create(algorithm);
        var buffer = ArrayPool<byte>.Shared.Rent(HashBufferSize);
        long total = 0;
        try
        {
            int read;
            while ((read = await file.Content.ReadAsync(buffer.AsMemory(0, HashBufferSize), cancellationToken)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, read));
                total += read;
                beat?.Report(total);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (beat is not null)
        {
            // No Working frame after the answer, none inside it.
            await beat.StopAsync();
        }

        await Writer.WriteAsync(Messages.HashOk(request.RequestId, entry.Name, total, algorithm, hasher.GetHashAndReset()), cancellationToken);
        return total;
    }

    /// <summary>The Working frames of a request whose answer comes after long work, when the client asked for them.</summary>
    private WorkingBeat? StartWorkingBeat(uint requestId, CancellationToken cancellationToken) =>
        WorkingBeat.Start(
            _capabilities.HasFlag(Capabilities.WorkingBeats),
            Writer,
            requestId,
            options.WorkingInterval ?? WorkingBeat.IntervalFor(options.IdleTimeout, FileXferHandlerOptions.MaxWorkingInterval),
            Connection.TimeProvider,
            cancellationToken);
}
