namespace FileXfer.Protocol.Framing;

/// <summary>
/// The frames around a body: where it starts (ResumeFrom, Ready), the Data that announces a get's, the BodyEnd that
/// closes one with its hash, and the encoding it is sent in.
/// </summary>
public static partial class Messages
{
    /// <summary>Where the body of a resumable put starts.</summary>
    public static Frame ResumeFrom(uint requestId, long offset) =>
        new(MessageType.ResumeFrom, requestId, Field.Integer(FieldTag.Offset, offset));

    /// <summary>The server holds <paramref name="offset"/> bytes of a resumable put, hashing to <paramref name="prefixHash"/>.</summary>
    public static Frame Ready(uint requestId, long offset, string hashAlgorithm, byte[] prefixHash) =>
        new(MessageType.Ready, requestId,
            Field.Integer(FieldTag.Offset, offset),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
            Field.Bytes(FieldTag.HashValue, prefixHash));

    /// <summary>The server accepts a put that is not resumable: the body follows (<paramref name="offset"/> is 0).</summary>
    public static Frame Ready(uint requestId, long offset) =>
        new(MessageType.Ready, requestId, Field.Integer(FieldTag.Offset, offset));

    /// <summary>The answer to get: the body of <paramref name="size"/> bytes follows.</summary>
    public static Frame Data(uint requestId, long size, string hashAlgorithm, DateTimeOffset modified, int? mode) =>
        Data(requestId, size, hashAlgorithm, modified, mode, offset: 0);

    /// <summary>
    /// The answer to get: the file has <paramref name="size"/> bytes and the body that follows starts at
    /// <paramref name="offset"/> (a resumed get), so it is <c>size - offset</c> bytes long.
    /// </summary>
    public static Frame Data(uint requestId, long size, string hashAlgorithm, DateTimeOffset modified, int? mode, long offset)
    {
        var fields = new List<Field>
        {
            Field.Integer(FieldTag.Size, size),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
            Field.Integer(FieldTag.MTime, UnixTime.ToNanoseconds(modified)),
        };
        if (offset != 0)
        {
            fields.Add(Field.Integer(FieldTag.Offset, offset));
        }

        if (mode is { } bits)
        {
            fields.Add(Field.Integer(FieldTag.Mode, bits));
        }

        return new Frame(MessageType.Data, requestId, fields);
    }

    /// <summary>The sender's hash of a body, sent right after it.</summary>
    public static Frame BodyEnd(uint requestId, string hashAlgorithm, byte[] hash) =>
        new(MessageType.BodyEnd, requestId, Field.String(FieldTag.HashAlgorithm, hashAlgorithm), Field.Bytes(FieldTag.HashValue, hash));

    /// <summary>
    /// <paramref name="frame"/> with a <see cref="FieldTag.BodyEncoding"/> field naming <paramref name="encoding"/>; the
    /// frame itself when the encoding is <see cref="BodyEncoding.Plain"/>, which is never sent.
    /// </summary>
    public static Frame WithEncoding(Frame frame, BodyEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return encoding == BodyEncoding.Plain
            ? frame
            : new Frame(frame.Type, frame.RequestId, [.. frame.Fields, Field.Unsigned(FieldTag.BodyEncoding, (ulong)encoding)]);
    }

    /// <summary>
    /// The body encoding a frame names: <see cref="BodyEncoding.Plain"/> when it has no such field.
    /// </summary>
    /// <exception cref="ProtocolViolationException">An encoding this version does not know: the body cannot be read.</exception>
    public static BodyEncoding ReadEncoding(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return frame.GetUInt64OrNull(FieldTag.BodyEncoding) switch
        {
            null or 0 => BodyEncoding.Plain,
            1 => BodyEncoding.ZstdBlocks,
            var other => throw new ProtocolViolationException($"{frame.Type} names an unknown body encoding {other}"),
        };
    }
}
