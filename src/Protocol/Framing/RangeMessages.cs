namespace FileXfer.Protocol.Framing;

/// <summary>
/// The frames of a file sent as ranges over several connections (<see cref="Capabilities.ParallelStreams"/>): each
/// range's Put or Get, the Data that answers a ranged Get, and the Assemble that names an uploaded file.
/// </summary>
public static class RangeMessages
{
    /// <summary>
    /// Store the range <paramref name="range"/> of a file of <paramref name="size"/> bytes at <paramref name="path"/>, as
    /// part of the transfer <paramref name="transferId"/>. Answered like a resumable put, within the range; with
    /// <paramref name="eager"/> (<see cref="Capabilities.EagerRanges"/>) the Put also carries NoWait: no Ready, the whole
    /// range follows it at once.
    /// </summary>
    public static Frame Put(uint requestId, string path, long size, string hashAlgorithm, byte[] transferId, FileRange range, bool eager = false) =>
        new(MessageType.Put, requestId,
            Field.String(FieldTag.Path, path),
            Field.Integer(FieldTag.Size, size),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
            Field.Unsigned(FieldTag.Flags, (ulong)(eager ? PutFlags.Range | PutFlags.NoWait : PutFlags.Range)),
            Field.Bytes(FieldTag.TransferId, transferId),
            Field.Integer(FieldTag.RangeOffset, range.Offset),
            Field.Integer(FieldTag.RangeLength, range.Length));

    /// <summary>
    /// Name the file assembled from the ranges of <paramref name="transferId"/>, when its whole-file hash is
    /// <paramref name="hash"/>; with its time and mode when given.
    /// </summary>
    public static Frame Assemble(uint requestId, string path, long size, string hashAlgorithm, byte[] transferId, byte[] hash, DateTimeOffset? modified, int? mode)
    {
        var fields = new List<Field>
        {
            Field.String(FieldTag.Path, path),
            Field.Integer(FieldTag.Size, size),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
            Field.Bytes(FieldTag.TransferId, transferId),
            Field.Bytes(FieldTag.HashValue, hash),
        };
        if (modified is { } time)
        {
            fields.Add(Field.Integer(FieldTag.MTime, UnixTime.ToNanoseconds(time)));
        }

        if (mode is { } bits)
        {
            fields.Add(Field.Integer(FieldTag.Mode, bits));
        }

        return new Frame(MessageType.Assemble, requestId, fields);
    }

    /// <summary>
    /// Fetch the range <paramref name="range"/> of the file at <paramref name="path"/>; with <paramref name="held"/> &gt; 0,
    /// resuming after that many bytes of the range, which hash to <paramref name="heldHash"/>.
    /// </summary>
    public static Frame Get(uint requestId, string path, string hashAlgorithm, FileRange range, long held, byte[]? heldHash)
    {
        var fields = new List<Field>
        {
            Field.String(FieldTag.Path, path),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
        };
        if (held > 0 && heldHash is not null)
        {
            fields.Add(Field.Integer(FieldTag.Offset, held));
            fields.Add(Field.Bytes(FieldTag.HashValue, heldHash));
        }

        fields.Add(Field.Integer(FieldTag.RangeOffset, range.Offset));
        fields.Add(Field.Integer(FieldTag.RangeLength, range.Length));
        return new Frame(MessageType.Get, requestId, fields);
    }

    /// <summary>
    /// The answer to a ranged get: the file has <paramref name="size"/> bytes, and the body that follows is the range's
    /// bytes after the first <paramref name="start"/> of them.
    /// </summary>
    public static Frame Data(uint requestId, long size, string hashAlgorithm, DateTimeOffset modified, int? mode, FileRange range, long start)
    {
        // A plain get's Data (its Offset is the start within the range), then the range.
        var plain = Messages.Data(requestId, size, hashAlgorithm, modified, mode, start);
        return new Frame(MessageType.Data, requestId, [.. plain.Fields, Field.Integer(FieldTag.RangeOffset, range.Offset), Field.Integer(FieldTag.RangeLength, range.Length)]);
    }

    /// <summary>The range a frame names, or null when it names none.</summary>
    /// <exception cref="ProtocolViolationException">Only one of the two range fields is present.</exception>
    public static FileRange? ReadRange(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        long? offset = frame.GetSizeOrNull(FieldTag.RangeOffset);
        long? length = frame.GetSizeOrNull(FieldTag.RangeLength);
        return (offset, length) switch
        {
            (null, null) => null,
            ({ } o, { } l) => new FileRange(o, l),
            _ => throw new ProtocolViolationException("a range needs both RangeOffset and RangeLength"),
        };
    }
}
