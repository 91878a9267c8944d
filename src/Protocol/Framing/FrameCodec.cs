using System.Buffers;
using System.Buffers.Binary;

namespace FileXfer.Protocol.Framing;

/// <summary>
/// Pure span code for the frame layout of docs/PROTOCOL.md:
/// <c>u32 length | u8 type | u8 flags | u32 request id | fields</c>, each field <c>u8 tag | u16 length | value</c>,
/// all big-endian. Decoding checks every length against <see cref="ProtocolLimits"/> before it is used.
/// </summary>
public static class FrameCodec
{
    /// <summary>
    /// Tries to decode one frame from the start of <paramref name="input"/>.
    /// Returns <see cref="OperationStatus.Done"/> with the frame and the bytes it used,
    /// <see cref="OperationStatus.NeedMoreData"/> when the input is a strict prefix of a frame that may still be valid, or
    /// <see cref="OperationStatus.InvalidData"/> with a reason when no continuation can make it valid.
    /// </summary>
    public static OperationStatus TryRead(ReadOnlySpan<byte> input, out Frame? frame, out int consumed, out string? error)
    {
        frame = null;
        var status = TryReadHeader(input, out var type, out uint requestId, out consumed, out error);
        if (status != OperationStatus.Done)
        {
            return status;
        }

        // One copy of the field area, owned by the frame; the fields are slices of it.
        var owned = input[FieldsStart..consumed].ToArray();
        var fields = new List<Field>();
        var reader = new FieldReader(owned);
        while (reader.MoveNext())
        {
            fields.Add(new Field(reader.Tag, owned.AsMemory(reader.ValueOffset, reader.ValueLength)));
        }

        if (reader.Error is { } invalid)
        {
            error = invalid;
            consumed = 0;
            return OperationStatus.InvalidData;
        }

        frame = new Frame(type, requestId, fields);
        return OperationStatus.Done;
    }

    /// <summary>
    /// Tries to find one whole frame at the start of <paramref name="input"/> without decoding its fields: its type,
    /// request id and total length (<paramref name="consumed"/>). The fields are
    /// <c>input[FieldsStart..consumed]</c>, to be read with a <see cref="FieldReader"/>, which checks them. Returns as
    /// <see cref="TryRead"/> does for the length prefix and the fixed header.
    /// </summary>
    public static OperationStatus TryReadHeader(ReadOnlySpan<byte> input, out MessageType type, out uint requestId, out int consumed, out string? error)
    {
        type = default;
        requestId = 0;
        consumed = 0;
        error = null;

        if (input.Length < ProtocolLimits.LengthPrefixBytes)
        {
            return OperationStatus.NeedMoreData;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(input);
        if (length < ProtocolLimits.FrameFixedBytes)
        {
            error = $"frame length {length} is shorter than the fixed {ProtocolLimits.FrameFixedBytes} bytes";
            return OperationStatus.InvalidData;
        }

        if (length > ProtocolLimits.MaxFrameLength)
        {
            error = $"frame length {length} exceeds the limit of {ProtocolLimits.MaxFrameLength}";
            return OperationStatus.InvalidData;
        }

        int total = ProtocolLimits.LengthPrefixBytes + (int)length;
        if (input.Length < total)
        {
            // Check what is already here so that garbage is refused early, not after 64 KiB arrive.
            if (input.Length > 5 && input[5] != 0)
            {
                error = $"frame flags 0x{input[5]:x2} are not zero";
                return OperationStatus.InvalidData;
            }

            return OperationStatus.NeedMoreData;
        }

        var body = input.Slice(ProtocolLimits.LengthPrefixBytes, (int)length);
        byte flags = body[1];
        if (flags != 0)
        {
            error = $"frame flags 0x{flags:x2} are not zero";
            return OperationStatus.InvalidData;
        }

        type = (MessageType)body[0];
        requestId = BinaryPrimitives.ReadUInt32BigEndian(body[2..]);
        consumed = total;
        return OperationStatus.Done;
    }

    /// <summary>Where a frame's fields start: after the length prefix and the fixed header.</summary>
    public const int FieldsStart = ProtocolLimits.LengthPrefixBytes + ProtocolLimits.FrameFixedBytes;

    /// <summary>The number of bytes <see cref="Write(Frame, Span{byte})"/> needs for this frame.</summary>
    public static int GetEncodedLength(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        int length = ProtocolLimits.LengthPrefixBytes + ProtocolLimits.FrameFixedBytes;
        foreach (var field in frame.Fields)
        {
            length += ProtocolLimits.FieldHeaderBytes + field.Value.Length;
        }

        return length;
    }

    /// <summary>Encodes a frame into <paramref name="destination"/> and returns the bytes written.</summary>
    /// <exception cref="ArgumentException">A field is too long or the frame exceeds the limit.</exception>
    public static int Write(Frame frame, Span<byte> destination)
    {
        int total = GetEncodedLength(frame);
        if (total - ProtocolLimits.LengthPrefixBytes > ProtocolLimits.MaxFrameLength)
        {
            throw new ArgumentException($"frame of {total} bytes exceeds the limit of {ProtocolLimits.MaxFrameLength}", nameof(frame));
        }

        if (destination.Length < total)
        {
            throw new ArgumentException($"destination has {destination.Length} bytes, {total} needed", nameof(destination));
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(total - ProtocolLimits.LengthPrefixBytes));
        destination[4] = (byte)frame.Type;
        destination[5] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[6..], frame.RequestId);
        int offset = ProtocolLimits.LengthPrefixBytes + ProtocolLimits.FrameFixedBytes;
        foreach (var field in frame.Fields)
        {
            int max = FieldKinds.MaxLength(field.Tag);
            if (field.Value.Length > max || field.Value.Length > ushort.MaxValue)
            {
                throw new ArgumentException($"field {field.Tag} has {field.Value.Length} bytes, over the limit of {max}", nameof(frame));
            }

            destination[offset] = (byte)field.Tag;
            BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 1)..], (ushort)field.Value.Length);
            field.Value.Span.CopyTo(destination[(offset + ProtocolLimits.FieldHeaderBytes)..]);
            offset += ProtocolLimits.FieldHeaderBytes + field.Value.Length;
        }

        return total;
    }

    /// <summary>Encodes a frame into a buffer writer.</summary>
    public static void Write(Frame frame, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        int total = GetEncodedLength(frame);
        int written = Write(frame, writer.GetSpan(total));
        writer.Advance(written);
    }

    /// <summary>Encodes a frame into a new array.</summary>
    public static byte[] ToArray(Frame frame)
    {
        var bytes = new byte[GetEncodedLength(frame)];
        Write(frame, bytes);
        return bytes;
    }
}
