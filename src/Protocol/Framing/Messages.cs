using System.Buffers.Binary;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Framing;

/// <summary>
/// Builds and reads the frames of each message type, so that the fields each one carries are written down
/// in one place (and in docs/PROTOCOL.md).
/// </summary>
public static class Messages
{
    /// <summary>The optional features this version implements.</summary>
    public const Capabilities Implemented = Capabilities.ChunkedBody | Capabilities.Pipelining | Capabilities.Trees | Capabilities.Resume | Capabilities.Authentication | Capabilities.ListOmissions | Capabilities.ParallelStreams | Capabilities.Compression | Capabilities.EarlyAuthentication | Capabilities.EagerRanges | Capabilities.PipelinedAuthentication | Capabilities.DirectoryTimes;

    /// <summary>The client's opening frame.</summary>
    public static Frame Hello(int version, Capabilities capabilities, string agent) => Hello(version, capabilities, agent, clientNonce: null);

    /// <summary>The client's opening frame, with the nonce it contributes to an authentication (when not null).</summary>
    public static Frame Hello(int version, Capabilities capabilities, string agent, byte[]? clientNonce) =>
        Hello(version, capabilities, agent, clientNonce, ticket: null);

    /// <summary>The client's opening frame, with its nonce and its place in the client's run (each when not null).</summary>
    public static Frame Hello(int version, Capabilities capabilities, string agent, byte[]? clientNonce, RunTicket? ticket)
    {
        var fields = new List<Field>
        {
            Field.Integer(FieldTag.Version, version),
            Field.Unsigned(FieldTag.Capabilities, (ulong)capabilities),
            Field.String(FieldTag.Agent, agent),
            Field.String(FieldTag.HashAlgorithms, string.Join(',', HashAlgorithms.Supported)),
        };
        if (clientNonce is not null)
        {
            fields.Add(Field.Bytes(FieldTag.ClientNonce, clientNonce));
        }

        ticket?.AddTo(fields);
        return new Frame(MessageType.Hello, 0, fields);
    }

    /// <summary>
    /// The opening frame of a later connection of a run that holds a ticket: the Hello with the token's name and the
    /// client's proof over the ticket (see <see cref="Security.AuthProof.ForRunClient"/>), so no Authenticate follows.
    /// </summary>
    public static Frame Hello(int version, Capabilities capabilities, string agent, byte[] clientNonce, RunTicket ticket, string tokenName, byte[] proof)
    {
        var hello = Hello(version, capabilities, agent, clientNonce, ticket);
        return new Frame(MessageType.Hello, 0, [.. hello.Fields, Field.String(FieldTag.TokenName, tokenName), Field.Bytes(FieldTag.Proof, proof)]);
    }

    /// <summary>The server's answer to <see cref="MessageType.Hello"/>.</summary>
    public static Frame Welcome(int version, Capabilities capabilities, string agent, long maxFileSize) =>
        Welcome(version, capabilities, agent, maxFileSize, serverNonce: null);

    /// <summary>The server's answer to <see cref="MessageType.Hello"/>, with its nonce when it requires authentication.</summary>
    public static Frame Welcome(int version, Capabilities capabilities, string agent, long maxFileSize, byte[]? serverNonce)
    {
        var fields = new List<Field>
        {
            Field.Integer(FieldTag.Version, version),
            Field.Unsigned(FieldTag.Capabilities, (ulong)capabilities),
            Field.String(FieldTag.Agent, agent),
            Field.String(FieldTag.HashAlgorithms, string.Join(',', HashAlgorithms.Supported)),
            Field.Integer(FieldTag.MaxFileSize, maxFileSize),
        };
        if (serverNonce is not null)
        {
            fields.Add(Field.Bytes(FieldTag.ServerNonce, serverNonce));
        }

        return new Frame(MessageType.Welcome, 0, fields);
    }

    /// <summary>
    /// The answer to a Hello that authenticated with its run's ticket: Welcome with Authentication set, no nonce, and in
    /// place of the Ok to Authenticate the server's proof and the access granted.
    /// </summary>
    public static Frame Welcome(int version, Capabilities capabilities, string agent, long maxFileSize, byte[] serverProof, AccessFlags access)
    {
        var welcome = Welcome(version, capabilities, agent, maxFileSize, serverNonce: null);
        var fields = new List<Field>(welcome.Fields) { Field.Bytes(FieldTag.ServerProof, serverProof) };
        if (access != AccessFlags.None)
        {
            fields.Add(Field.Unsigned(FieldTag.Flags, (ulong)access));
        }

        return new Frame(MessageType.Welcome, 0, fields);
    }

    /// <summary>The client authenticates as <paramref name="tokenName"/> with its proof (see <see cref="Security.AuthProof"/>).</summary>
    public static Frame Authenticate(string tokenName, byte[] proof) =>
        new(MessageType.Authenticate, 0, Field.String(FieldTag.TokenName, tokenName), Field.Bytes(FieldTag.Proof, proof));

    /// <summary>The server accepted an <see cref="MessageType.Authenticate"/>: its own proof and the access granted.</summary>
    public static Frame AuthenticateOk(byte[] serverProof, AccessFlags access) => AuthenticateOk(serverProof, access, ticketLifetime: null);

    /// <summary>
    /// The server accepted an <see cref="MessageType.Authenticate"/>: its proof, the access granted, and when not null
    /// how long this connection's nonce serves as its run's ticket (<see cref="Capabilities.EarlyAuthentication"/>).
    /// </summary>
    public static Frame AuthenticateOk(byte[] serverProof, AccessFlags access, TimeSpan? ticketLifetime)
    {
        var fields = new List<Field> { Field.Bytes(FieldTag.ServerProof, serverProof) };
        if (access != AccessFlags.None)
        {
            fields.Add(Field.Unsigned(FieldTag.Flags, (ulong)access));
        }

        if (ticketLifetime is { } lifetime)
        {
            fields.Add(Field.Unsigned(FieldTag.TicketLifetime, (ulong)Math.Max(1, (long)lifetime.TotalSeconds)));
        }

        return new Frame(MessageType.Ok, 0, fields);
    }

    /// <summary>Store <paramref name="size"/> bytes at <paramref name="path"/>: a fixed-length body sent after Ready.</summary>
    public static Frame Put(uint requestId, string path, long size, string hashAlgorithm, DateTimeOffset? modified, int? mode) =>
        Put(requestId, path, size, hashAlgorithm, modified, mode, PutFlags.None);

    /// <summary>Store a file at <paramref name="path"/>; <paramref name="size"/> may be null only for a chunked body.</summary>
    public static Frame Put(uint requestId, string path, long? size, string hashAlgorithm, DateTimeOffset? modified, int? mode, PutFlags flags, byte[]? resumeKey = null)
    {
        var fields = new List<Field> { Field.String(FieldTag.Path, path) };
        if (size is { } length)
        {
            fields.Add(Field.Integer(FieldTag.Size, length));
        }

        fields.Add(Field.String(FieldTag.HashAlgorithm, hashAlgorithm));

        if (flags != PutFlags.None)
        {
            fields.Add(Field.Unsigned(FieldTag.Flags, (ulong)flags));
        }

        if (resumeKey is not null)
        {
            fields.Add(Field.Bytes(FieldTag.ResumeKey, resumeKey));
        }
        AddTimeAndMode(fields, modified, mode);
        return new Frame(MessageType.Put, requestId, fields);
    }

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

    /// <summary>Fetch the file at <paramref name="path"/>, hashed with <paramref name="hashAlgorithm"/>.</summary>
    public static Frame Get(uint requestId, string path, string hashAlgorithm) =>
        new(MessageType.Get, requestId, Field.String(FieldTag.Path, path), Field.String(FieldTag.HashAlgorithm, hashAlgorithm));

    /// <summary>
    /// Fetch the file at <paramref name="path"/>, resuming after the <paramref name="offset"/> bytes the client holds
    /// if the server's first bytes hash to <paramref name="prefixHash"/>; Data's Offset says where the body starts.
    /// </summary>
    public static Frame Get(uint requestId, string path, string hashAlgorithm, long offset, byte[] prefixHash) =>
        new(MessageType.Get, requestId,
            Field.String(FieldTag.Path, path),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
            Field.Integer(FieldTag.Offset, offset),
            Field.Bytes(FieldTag.HashValue, prefixHash));

    /// <summary>Where the body of a resumable put starts.</summary>
    public static Frame ResumeFrom(uint requestId, long offset) =>
        new(MessageType.ResumeFrom, requestId, Field.Integer(FieldTag.Offset, offset));

    /// <summary>The server holds <paramref name="offset"/> bytes of a resumable put, hashing to <paramref name="prefixHash"/>.</summary>
    public static Frame Ready(uint requestId, long offset, string hashAlgorithm, byte[] prefixHash) =>
        new(MessageType.Ready, requestId,
            Field.Integer(FieldTag.Offset, offset),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
            Field.Bytes(FieldTag.HashValue, prefixHash));

    /// <summary>A request that names only a path: stat, list or delete.</summary>
    public static Frame PathRequest(MessageType type, uint requestId, string path) =>
        new(type, requestId, Field.String(FieldTag.Path, path));

    /// <summary>List a directory, or with <see cref="ListFlags.Recursive"/> the whole tree below it.</summary>
    public static Frame List(uint requestId, string path, ListFlags flags)
    {
        var fields = new List<Field> { Field.String(FieldTag.Path, path) };
        if (flags != ListFlags.None)
        {
            fields.Add(Field.Unsigned(FieldTag.Flags, (ulong)flags));
        }

        return new Frame(MessageType.List, requestId, fields);
    }

    /// <summary>Create a directory with its parents, or set the time and mode of an existing one.</summary>
    public static Frame MakeDirectory(uint requestId, string path, DateTimeOffset? modified, int? mode)
    {
        var fields = new List<Field> { Field.String(FieldTag.Path, path) };
        AddTimeAndMode(fields, modified, mode);
        return new Frame(MessageType.MakeDirectory, requestId, fields);
    }

    /// <summary>
    /// <paramref name="frame"/> (a Put, an Assemble or a MakeDirectory) with a <see cref="FieldTag.ParentMTime"/> field: the
    /// time its entry's parent directory is to end with (<see cref="Capabilities.DirectoryTimes"/>); the frame itself when
    /// <paramref name="parentModified"/> is null. Clamped to the representable range as <see cref="FieldTag.MTime"/> is.
    /// </summary>
    public static Frame WithParentTime(Frame frame, DateTimeOffset? parentModified)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return parentModified is { } time
            ? new Frame(frame.Type, frame.RequestId, [.. frame.Fields, Field.Integer(FieldTag.ParentMTime, UnixTime.ToNanoseconds(time))])
            : frame;
    }

    /// <summary>The ParentMTime field of a frame, when present (clamped as <see cref="ReadModified"/> clamps MTime).</summary>
    public static DateTimeOffset? ReadParentModified(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return frame.GetInt64OrNull(FieldTag.ParentMTime) is { } nanoseconds ? UnixTime.FromNanoseconds(nanoseconds) : null;
    }

    /// <summary>
    /// <paramref name="ok"/> (the Ok to a Put, an Assemble or a MakeDirectory that carried ParentMTime) with a
    /// <see cref="FieldTag.ParentTimeNotSet"/> field of value 1 when <paramref name="notSet"/>: the entry was made but its
    /// parent directory could not be given the time asked; the frame itself otherwise.
    /// </summary>
    public static Frame WithParentTimeNotSet(Frame ok, bool notSet)
    {
        ArgumentNullException.ThrowIfNull(ok);
        return notSet ? new Frame(ok.Type, ok.RequestId, [.. ok.Fields, Field.Integer(FieldTag.ParentTimeNotSet, 1)]) : ok;
    }

    /// <summary>
    /// True when an Ok says the parent time its request asked for was not set (<see cref="FieldTag.ParentTimeNotSet"/>
    /// present with any value but 0: a later version may give other values a meaning, each of them still "not set").
    /// </summary>
    public static bool ReadParentTimeNotSet(Frame ok)
    {
        ArgumentNullException.ThrowIfNull(ok);
        return ok.GetUInt64OrNull(FieldTag.ParentTimeNotSet) is { } value && value != 0;
    }

    /// <summary>The optional time and permission bits a put or a mkdir gives what it makes.</summary>
    private static void AddTimeAndMode(List<Field> fields, DateTimeOffset? modified, int? mode)
    {
        if (modified is { } time)
        {
            fields.Add(Field.Integer(FieldTag.MTime, UnixTime.ToNanoseconds(time)));
        }

        if (mode is { } bits)
        {
            fields.Add(Field.Integer(FieldTag.Mode, bits));
        }
    }

    /// <summary>Hash the stored file at <paramref name="path"/>.</summary>
    public static Frame Hash(uint requestId, string path, string hashAlgorithm) =>
        new(MessageType.Hash, requestId, Field.String(FieldTag.Path, path), Field.String(FieldTag.HashAlgorithm, hashAlgorithm));

    /// <summary>The server accepts a put that is not resumable: the body follows (<paramref name="offset"/> is 0).</summary>
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

    /// <summary>Describes a path: the fields of a stat answer or of a listing entry.</summary>
    public static Frame Describe(MessageType type, uint requestId, RemoteEntry entry) =>
        Describe(type, requestId, entry, type == MessageType.Entry ? FieldTag.Name : FieldTag.Path);

    /// <summary>Describes a path, naming it with <paramref name="nameTag"/> (<see cref="FieldTag.Path"/> in recursive listings).</summary>
    public static Frame Describe(MessageType type, uint requestId, RemoteEntry entry, FieldTag nameTag)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var fields = new List<Field>
        {
            Field.String(nameTag, entry.Name),
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

    /// <summary>
    /// The most bytes <see cref="WriteDescribe"/> can need for <paramref name="entry"/>: the frame with its name at three
    /// UTF-8 bytes a UTF-16 unit (the most one takes).
    /// </summary>
    public static int MaxDescribeLength(RemoteEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return FrameCodec.FieldsStart + ProtocolLimits.FieldHeaderBytes + (entry.Name.Length * 3) + (4 * IntegerFieldBytes);
    }

    private const int IntegerFieldBytes = ProtocolLimits.FieldHeaderBytes + 8;

    /// <summary>
    /// Encodes the frame <see cref="Describe(MessageType, uint, RemoteEntry, FieldTag)"/> builds straight into
    /// <paramref name="destination"/> (at least <see cref="MaxDescribeLength"/> bytes), the same bytes without building
    /// it: a listing sends one per entry. Returns the bytes written.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not valid UTF-16, or is over its field's limit, or the destination is too small.</exception>
    public static int WriteDescribe(Span<byte> destination, MessageType type, uint requestId, RemoteEntry entry, FieldTag nameTag)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (destination.Length < MaxDescribeLength(entry))
        {
            throw new ArgumentException($"destination has {destination.Length} bytes, {MaxDescribeLength(entry)} needed", nameof(destination));
        }

        int offset = FrameCodec.FieldsStart;
        int nameBytes = Field.StrictUtf8.GetBytes(entry.Name, destination[(offset + ProtocolLimits.FieldHeaderBytes)..]);
        int max = FieldKinds.MaxLength(nameTag);
        if (nameBytes > max)
        {
            throw new ArgumentException($"field {nameTag} has {nameBytes} bytes, over the limit of {max}", nameof(entry));
        }

        destination[offset] = (byte)nameTag;
        BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 1)..], (ushort)nameBytes);
        offset += ProtocolLimits.FieldHeaderBytes + nameBytes;
        offset += WriteInteger(destination[offset..], FieldTag.Kind, (long)entry.Kind);
        offset += WriteInteger(destination[offset..], FieldTag.Size, entry.Size);
        offset += WriteInteger(destination[offset..], FieldTag.MTime, UnixTime.ToNanoseconds(entry.ModifiedUtc));
        if (entry.Mode is { } mode)
        {
            offset += WriteInteger(destination[offset..], FieldTag.Mode, mode);
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(offset - ProtocolLimits.LengthPrefixBytes));
        destination[4] = (byte)type;
        destination[5] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[6..], requestId);
        return offset;
    }

    private static int WriteInteger(Span<byte> destination, FieldTag tag, long value)
    {
        destination[0] = (byte)tag;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], 8);
        BinaryPrimitives.WriteInt64BigEndian(destination[ProtocolLimits.FieldHeaderBytes..], value);
        return IntegerFieldBytes;
    }

    /// <summary>
    /// Reads an entry straight from the field area of a <paramref name="type"/> frame (see <see cref="FrameCodec.TryReadHeader"/>):
    /// the fields checked as <see cref="FrameCodec.TryRead"/> checks them, then read as <see cref="ReadEntry(Frame)"/> reads
    /// them, with no frame built. <paramref name="namedByName"/> says whether the entry was named by a Name field (a
    /// one-level listing) rather than a Path.
    /// </summary>
    /// <exception cref="ProtocolViolationException">A field is invalid, missing or out of range.</exception>
    public static RemoteEntry ReadEntry(ReadOnlySpan<byte> fields, MessageType type, out bool namedByName)
    {
        var reader = new FieldReader(fields);
        int nameStart = -1, nameLength = 0, pathStart = -1, pathLength = 0;
        long? kind = null, mtime = null, mode = null;
        ulong? size = null;
        while (reader.MoveNext())
        {
            switch (reader.Tag)
            {
                case FieldTag.Name:
                    (nameStart, nameLength) = (reader.ValueOffset, reader.ValueLength);
                    break;
                case FieldTag.Path:
                    (pathStart, pathLength) = (reader.ValueOffset, reader.ValueLength);
                    break;
                case FieldTag.Kind:
                    kind = reader.Int64;
                    break;
                case FieldTag.Size:
                    size = reader.UInt64;
                    break;
                case FieldTag.MTime:
                    mtime = reader.Int64;
                    break;
                case FieldTag.Mode:
                    mode = reader.Int64;
                    break;
            }
        }

        if (reader.Error is { } error)
        {
            throw new ProtocolViolationException(error);
        }

        namedByName = nameStart >= 0;
        string name = namedByName ? Field.StrictUtf8.GetString(fields.Slice(nameStart, nameLength))
            : pathStart >= 0 ? Field.StrictUtf8.GetString(fields.Slice(pathStart, pathLength))
            : throw new ProtocolViolationException($"{type} frame lacks the required field {FieldTag.Path}");
        var entryKind = ToKind(kind ?? throw new ProtocolViolationException("entry lacks its kind"));
        if (size is not { } length)
        {
            throw new ProtocolViolationException($"{type} frame lacks the required field {FieldTag.Size}");
        }

        if (length > (ulong)ProtocolLimits.MaxBodySize)
        {
            throw new ProtocolViolationException($"field {FieldTag.Size} is {length}, over the limit of {ProtocolLimits.MaxBodySize}");
        }

        return new RemoteEntry(
            name,
            entryKind,
            (long)length,
            mtime is { } nanoseconds ? UnixTime.FromNanoseconds(nanoseconds) : DateTimeOffset.UnixEpoch,
            ToMode(mode));
    }

    /// <summary>Reads the fields written by <see cref="Describe(MessageType, uint, RemoteEntry, FieldTag)"/>.</summary>
    /// <exception cref="ProtocolViolationException">A field is missing or out of range.</exception>
    public static RemoteEntry ReadEntry(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var name = frame.GetStringOrNull(FieldTag.Name) ?? frame.GetString(FieldTag.Path);
        return new RemoteEntry(
            name,
            ReadKind(frame),
            frame.GetSize(FieldTag.Size),
            ReadModified(frame) ?? DateTimeOffset.UnixEpoch,
            ReadMode(frame));
    }

    /// <summary>The Kind field of a frame; an unknown value reads as <see cref="EntryKind.Other"/>.</summary>
    /// <exception cref="ProtocolViolationException">The field is missing.</exception>
    public static EntryKind ReadKind(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return ToKind(frame.GetInt64OrNull(FieldTag.Kind) ?? throw new ProtocolViolationException("entry lacks its kind"));
    }

    private static EntryKind ToKind(long kind) =>
        kind is < 0 or > int.MaxValue || !Enum.IsDefined((EntryKind)(int)kind) ? EntryKind.Other : (EntryKind)(int)kind;

    private static int? ToMode(long? bits) => bits is { } value and >= 0 and <= 0xFFFF ? (int)value : null;

    /// <summary>The modification time field of a frame, when present.</summary>
    public static DateTimeOffset? ReadModified(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return frame.GetInt64OrNull(FieldTag.MTime) is { } nanoseconds ? UnixTime.FromNanoseconds(nanoseconds) : null;
    }

    /// <summary>The mode field of a frame, when present and within 16 bits.</summary>
    public static int? ReadMode(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return ToMode(frame.GetInt64OrNull(FieldTag.Mode));
    }

    /// <summary>
    /// An entry of a listing that the protocol cannot carry: <paramref name="shownName"/> is its name (or relative
    /// path) escaped with <see cref="Paths.RemotePath.Escape(string)"/>, <paramref name="reason"/> why it cannot be sent.
    /// </summary>
    public static Frame Omitted(uint requestId, string shownName, EntryKind kind, string reason) =>
        new(MessageType.Omitted, requestId, [Field.String(FieldTag.Path, FitPath(shownName)), Field.Integer(FieldTag.Kind, (long)kind), Field.String(FieldTag.Message, FitMessage(reason))]);

    /// <summary>Cuts an escaped name to the Path field's limit (an escaped name can be longer than the name).</summary>
    private static string FitPath(string shown) =>
        System.Text.Encoding.UTF8.GetByteCount(shown) <= ProtocolLimits.MaxPathBytes ? shown : Fit(shown, ProtocolLimits.MaxPathBytes - 3) + "...";

    /// <summary>The end of a listing of <paramref name="count"/> entries.</summary>
    public static Frame EndOfList(uint requestId, long count) =>
        new(MessageType.EndOfList, requestId, Field.Integer(FieldTag.Count, count));

    /// <summary>The sender's hash of a body, sent right after it.</summary>
    public static Frame BodyEnd(uint requestId, string hashAlgorithm, byte[] hash) =>
        new(MessageType.BodyEnd, requestId, Field.String(FieldTag.HashAlgorithm, hashAlgorithm), Field.Bytes(FieldTag.HashValue, hash));

    /// <summary>A failed request, with its stable code and a message for people.</summary>
    public static Frame Error(uint requestId, ErrorCode code, string message) =>
        new(MessageType.Error, requestId, Field.Integer(FieldTag.ErrorCode, (long)code), Field.String(FieldTag.Message, FitMessage(message)));

    /// <summary>
    /// Makes any text a valid message field: NUL and lone surrogates replaced, cut to
    /// <see cref="ProtocolLimits.MaxMessageBytes"/> bytes on a character boundary.
    /// </summary>
    public static string FitMessage(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Fit(message, ProtocolLimits.MaxMessageBytes);
    }

    /// <summary>The longest prefix of whole characters within <paramref name="maxBytes"/> of UTF-8, NUL read as '?'.</summary>
    private static string Fit(string text, int maxBytes)
    {
        var builder = new System.Text.StringBuilder(Math.Min(text.Length, maxBytes));
        int bytes = 0;
        foreach (var rune in EnumerateRunesLeniently(text))
        {
            var safe = rune.Value == 0 ? new System.Text.Rune('?') : rune;
            if (bytes + safe.Utf8SequenceLength > maxBytes)
            {
                break;
            }

            bytes += safe.Utf8SequenceLength;
            builder.Append(safe.ToString());
        }

        return builder.ToString();
    }

    private static IEnumerable<System.Text.Rune> EnumerateRunesLeniently(string text)
    {
        for (int i = 0; i < text.Length;)
        {
            if (System.Text.Rune.TryGetRuneAt(text, i, out var rune))
            {
                yield return rune;
                i += rune.Utf16SequenceLength;
            }
            else
            {
                yield return System.Text.Rune.ReplacementChar;
                i++;
            }
        }
    }

    /// <summary>The exception an error frame stands for, marked as remote.</summary>
    public static FileXferException ToException(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        long code = frame.GetInt64OrNull(FieldTag.ErrorCode) ?? (long)ErrorCode.Internal;
        var message = frame.GetStringOrNull(FieldTag.Message) ?? "error";
        var errorCode = Enum.IsDefined((ErrorCode)code) ? (ErrorCode)code : ErrorCode.Internal;
        return errorCode == ErrorCode.ProtocolViolation
            ? new ProtocolViolationException(message) { IsRemote = true }
            : new FileXferException(errorCode, message) { IsRemote = true };
    }
}
