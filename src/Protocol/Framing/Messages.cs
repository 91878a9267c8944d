using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Framing;

/// <summary>
/// Builds and reads the frames of each message type, so that the fields each one carries are written down
/// in one place (and in docs/PROTOCOL.md).
/// </summary>
public static class Messages
{
    /// <summary>The client's opening frame.</summary>
    public static Frame Hello(int version, Capabilities capabilities, string agent) =>
        new(MessageType.Hello, 0,
            Field.Integer(FieldTag.Version, version),
            Field.Unsigned(FieldTag.Capabilities, (ulong)capabilities),
            Field.String(FieldTag.Agent, agent),
            Field.String(FieldTag.HashAlgorithms, string.Join(',', HashAlgorithms.Supported)));

    /// <summary>The server's answer to <see cref="Hello"/>.</summary>
    public static Frame Welcome(int version, Capabilities capabilities, string agent, long maxFileSize) =>
        new(MessageType.Welcome, 0,
            Field.Integer(FieldTag.Version, version),
            Field.Unsigned(FieldTag.Capabilities, (ulong)capabilities),
            Field.String(FieldTag.Agent, agent),
            Field.String(FieldTag.HashAlgorithms, string.Join(',', HashAlgorithms.Supported)),
            Field.Integer(FieldTag.MaxFileSize, maxFileSize));

    /// <summary>Store <paramref name="size"/> bytes at <paramref name="path"/>.</summary>
    public static Frame Put(uint requestId, string path, long size, string hashAlgorithm, DateTimeOffset? modified, int? mode)
    {
        var fields = new List<Field>
        {
            Field.String(FieldTag.Path, path),
            Field.Integer(FieldTag.Size, size),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
        };
        if (modified is { } time)
        {
            fields.Add(Field.Integer(FieldTag.MTime, UnixTime.ToNanoseconds(time)));
        }

        if (mode is { } bits)
        {
            fields.Add(Field.Integer(FieldTag.Mode, bits));
        }

        return new Frame(MessageType.Put, requestId, fields);
    }

    /// <summary>Fetch the file at <paramref name="path"/>, hashed with <paramref name="hashAlgorithm"/>.</summary>
    public static Frame Get(uint requestId, string path, string hashAlgorithm) =>
        new(MessageType.Get, requestId, Field.String(FieldTag.Path, path), Field.String(FieldTag.HashAlgorithm, hashAlgorithm));

    /// <summary>A request that names only a path: stat, list or delete.</summary>
    public static Frame PathRequest(MessageType type, uint requestId, string path) =>
        new(type, requestId, Field.String(FieldTag.Path, path));

    /// <summary>Hash the stored file at <paramref name="path"/>.</summary>
    public static Frame Hash(uint requestId, string path, string hashAlgorithm) =>
        new(MessageType.Hash, requestId, Field.String(FieldTag.Path, path), Field.String(FieldTag.HashAlgorithm, hashAlgorithm));

    /// <summary>The server accepts a put; the body is to start at <paramref name="offset"/> (0 in version 1).</summary>
    public static Frame Ready(uint requestId, long offset) =>
        new(MessageType.Ready, requestId, Field.Integer(FieldTag.Offset, offset));

    /// <summary>A success answer with request-specific fields.</summary>
    public static Frame Ok(uint requestId, params IEnumerable<Field> fields) => new(MessageType.Ok, requestId, fields);

    /// <summary>A success answer that carries a hash: to put and hash.</summary>
    public static Frame HashOk(uint requestId, string path, long size, string hashAlgorithm, byte[] hash) =>
        Ok(requestId,
            Field.String(FieldTag.Path, path),
            Field.Integer(FieldTag.Size, size),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
            Field.Bytes(FieldTag.HashValue, hash));

    /// <summary>The answer to get: the body of <paramref name="size"/> bytes follows.</summary>
    public static Frame Data(uint requestId, long size, string hashAlgorithm, DateTimeOffset modified, int? mode)
    {
        var fields = new List<Field>
        {
            Field.Integer(FieldTag.Size, size),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
            Field.Integer(FieldTag.MTime, UnixTime.ToNanoseconds(modified)),
        };
        if (mode is { } bits)
        {
            fields.Add(Field.Integer(FieldTag.Mode, bits));
        }

        return new Frame(MessageType.Data, requestId, fields);
    }

    /// <summary>Describes a path: the fields of a stat answer or of a listing entry.</summary>
    public static Frame Describe(MessageType type, uint requestId, RemoteEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var fields = new List<Field>
        {
            Field.String(type == MessageType.Entry ? FieldTag.Name : FieldTag.Path, entry.Name),
            Field.Integer(FieldTag.Kind, (long)entry.Kind),
            Field.Integer(FieldTag.Size, entry.Size),
            Field.Integer(FieldTag.MTime, UnixTime.ToNanoseconds(entry.ModifiedUtc)),
        };
        if (entry.Mode is { } mode)
        {
            fields.Add(Field.Integer(FieldTag.Mode, mode));
        }

        return new Frame(type, requestId, fields);
    }

    /// <summary>Reads the fields written by <see cref="Describe"/>.</summary>
    /// <exception cref="ProtocolViolationException">A field is missing or out of range.</exception>
    public static RemoteEntry ReadEntry(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var name = frame.Type == MessageType.Entry ? frame.GetString(FieldTag.Name) : frame.GetString(FieldTag.Path);
        long kind = frame.GetInt64OrNull(FieldTag.Kind) ?? throw new ProtocolViolationException("entry lacks its kind");
        if (!Enum.IsDefined((EntryKind)kind))
        {
            kind = (long)EntryKind.Other;
        }

        long? mode = frame.GetInt64OrNull(FieldTag.Mode);
        return new RemoteEntry(
            name,
            (EntryKind)kind,
            frame.GetSize(FieldTag.Size),
            UnixTime.FromNanoseconds(frame.GetInt64OrNull(FieldTag.MTime) ?? 0),
            mode is >= 0 and <= 0xFFFF ? (int)mode : null);
    }

    /// <summary>The end of a listing of <paramref name="count"/> entries.</summary>
    public static Frame EndOfList(uint requestId, long count) =>
        new(MessageType.EndOfList, requestId, Field.Integer(FieldTag.Count, count));

    /// <summary>The sender's hash of a body, sent right after it.</summary>
    public static Frame BodyEnd(uint requestId, string hashAlgorithm, byte[] hash) =>
        new(MessageType.BodyEnd, requestId, Field.String(FieldTag.HashAlgorithm, hashAlgorithm), Field.Bytes(FieldTag.HashValue, hash));

    /// <summary>A failed request, with its stable code and a message for people.</summary>
    public static Frame Error(uint requestId, ErrorCode code, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        // Messages are cut to the limit on a character boundary rather than refused. The cut never splits a
        // surrogate pair: a lone half is not valid UTF-8, and encoding the field would throw.
        int limit = ProtocolLimits.MaxMessageBytes / 4;
        var text = message.Length <= limit ? message : message[..(char.IsHighSurrogate(message[limit - 1]) ? limit - 1 : limit)];
        return new Frame(MessageType.Error, requestId, Field.Integer(FieldTag.ErrorCode, (long)code), Field.String(FieldTag.Message, text));
    }

    /// <summary>The exception an error frame stands for, marked as remote.</summary>
    public static FileXferException ToException(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        long code = frame.GetInt64OrNull(FieldTag.ErrorCode) ?? (long)ErrorCode.Internal;
        var message = frame.GetStringOrNull(FieldTag.Message) ?? "error";
        var errorCode = Enum.IsDefined((ErrorCode)code) ? (ErrorCode)code : ErrorCode.Internal;
        return errorCode == ErrorCode.ProtocolViolation
            ? new ProtocolViolationException(message)
            : new FileXferException(errorCode, message) { IsRemote = true };
    }
}
