using System.Buffers.Binary;

namespace FileXfer.Protocol.Framing;

/// <summary>
/// One decoded or to-be-encoded message: a type, the request id it belongs to, and its header fields.
/// Field values are validated by <see cref="FrameCodec"/> when decoded, so the accessors here only
/// report missing fields and out-of-range numbers.
/// </summary>
public sealed class Frame
{
    private readonly Field[] _fields;

    public Frame(MessageType type, uint requestId, params IEnumerable<Field> fields)
    {
        Type = type;
        RequestId = requestId;
        _fields = [.. fields];
    }

    /// <summary>The message type.</summary>
    public MessageType Type { get; }

    /// <summary>The id the client gave the request; responses carry the id of their request.</summary>
    public uint RequestId { get; }

    /// <summary>The fields in wire order.</summary>
    public IReadOnlyList<Field> Fields => _fields;

    /// <summary>True when a field with this tag is present.</summary>
    public bool Has(FieldTag tag) => Find(tag) is not null;

    /// <summary>The string value of a field, or null when absent.</summary>
    public string? GetStringOrNull(FieldTag tag) =>
        Find(tag) is { } field ? Field.StrictUtf8.GetString(field.Value.Span) : null;

    /// <summary>The string value of a required field.</summary>
    public string GetString(FieldTag tag) => GetStringOrNull(tag) ?? throw Missing(tag);

    /// <summary>The signed integer value of a field, or null when absent.</summary>
    public long? GetInt64OrNull(FieldTag tag) =>
        Find(tag) is { } field ? BinaryPrimitives.ReadInt64BigEndian(field.Value.Span) : null;

    /// <summary>The unsigned integer value of a field, or null when absent.</summary>
    public ulong? GetUInt64OrNull(FieldTag tag) =>
        Find(tag) is { } field ? BinaryPrimitives.ReadUInt64BigEndian(field.Value.Span) : null;

    /// <summary>A required size or offset field: 0 to <see cref="ProtocolLimits.MaxBodySize"/>.</summary>
    public long GetSize(FieldTag tag) => GetSizeOrNull(tag) ?? throw Missing(tag);

    /// <summary>A size or offset field, or null when absent; values out of range are a protocol violation.</summary>
    public long? GetSizeOrNull(FieldTag tag)
    {
        if (GetUInt64OrNull(tag) is not { } value)
        {
            return null;
        }

        if (value > (ulong)ProtocolLimits.MaxBodySize)
        {
            throw new ProtocolViolationException($"field {tag} is {value}, over the limit of {ProtocolLimits.MaxBodySize}");
        }

        return (long)value;
    }

    /// <summary>The bytes of a field, or null when absent.</summary>
    public byte[]? GetBytesOrNull(FieldTag tag) => Find(tag)?.Value.ToArray();

    /// <summary>The bytes of a required field.</summary>
    public byte[] GetBytes(FieldTag tag) => GetBytesOrNull(tag) ?? throw Missing(tag);

    /// <inheritdoc />
    public override string ToString() => $"{Type} #{RequestId} ({_fields.Length} fields)";

    private Field? Find(FieldTag tag)
    {
        foreach (var field in _fields)
        {
            if (field.Tag == tag)
            {
                return field;
            }
        }

        return null;
    }

    private ProtocolViolationException Missing(FieldTag tag) =>
        new($"{Type} frame lacks the required field {tag}");
}
