using System.Buffers.Binary;

namespace FileXfer.Protocol.Framing;

/// <summary>
/// Entries: a path described (a stat answer, a listing's entry) built, encoded straight into a buffer, or read; the
/// fields they share with a put (kind, time, mode); and the rest of a listing (Omitted, EndOfList).
/// </summary>
public static partial class Messages
{
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
}
