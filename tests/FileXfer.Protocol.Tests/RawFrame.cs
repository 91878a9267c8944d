using System.Buffers.Binary;

namespace FileXfer.Protocol.Tests;

/// <summary>
/// Builds frame bytes by hand, without the codec, so tests can make frames the codec would refuse to write.
/// </summary>
internal static class RawFrame
{
    /// <summary>A frame with the given field area (already encoded fields, or garbage).</summary>
    public static byte[] FromFieldArea(byte type, uint requestId, ReadOnlySpan<byte> fieldArea, byte flags = 0)
    {
        var bytes = new byte[ProtocolLimits.LengthPrefixBytes + ProtocolLimits.FrameFixedBytes + fieldArea.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(ProtocolLimits.FrameFixedBytes + fieldArea.Length));
        bytes[4] = type;
        bytes[5] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(6), requestId);
        fieldArea.CopyTo(bytes.AsSpan(10));
        return bytes;
    }

    /// <summary>A frame whose fields are each written as <c>tag | u16 length | value</c>.</summary>
    public static byte[] WithFields(byte type, uint requestId, params (byte Tag, byte[] Value)[] fields) =>
        FromFieldArea(type, requestId, Fields(fields));

    /// <summary>The encoded field area for a list of fields.</summary>
    public static byte[] Fields(params (byte Tag, byte[] Value)[] fields)
    {
        var area = new List<byte>();
        foreach (var (tag, value) in fields)
        {
            area.Add(tag);
            area.Add((byte)(value.Length >> 8));
            area.Add((byte)value.Length);
            area.AddRange(value);
        }

        return [.. area];
    }

    /// <summary>An 8-byte big-endian integer value.</summary>
    public static byte[] Int64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>An 8-byte big-endian unsigned integer value.</summary>
    public static byte[] UInt64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }
}
