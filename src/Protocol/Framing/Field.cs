using System.Buffers.Binary;
using System.Text;

namespace FileXfer.Protocol.Framing;

/// <summary>One header field: a tag and its encoded value bytes.</summary>
public readonly record struct Field(FieldTag Tag, ReadOnlyMemory<byte> Value)
{
    /// <summary>A string field, UTF-8 encoded.</summary>
    public static Field String(FieldTag tag, string value) => new(tag, StrictUtf8.GetBytes(value));

    /// <summary>An integer field: 8 bytes, big-endian.</summary>
    public static Field Integer(FieldTag tag, long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return new Field(tag, bytes);
    }

    /// <summary>An unsigned integer field: 8 bytes, big-endian.</summary>
    public static Field Unsigned(FieldTag tag, ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return new Field(tag, bytes);
    }

    /// <summary>A raw bytes field.</summary>
    public static Field Bytes(FieldTag tag, ReadOnlySpan<byte> value) => new(tag, value.ToArray());

    /// <summary>UTF-8 that throws on invalid bytes or lone surrogates instead of replacing them.</summary>
    public static Encoding StrictUtf8 { get; } = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
