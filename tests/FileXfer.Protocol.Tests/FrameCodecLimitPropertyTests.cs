using System.Buffers;
using System.Buffers.Binary;
using FileXfer.Protocol.Framing;
using FsCheck.Xunit;

namespace FileXfer.Protocol.Tests;

/// <summary>
/// Properties of the limits a peer's numbers meet: a length prefix out of range is refused from its four bytes
/// alone, a known field never counts twice, and sizes past 2^62 are refused by the accessors that read them.
/// </summary>
public class FrameCodecLimitPropertyTests
{
    [Property(MaxTest = 1000)]
    public void A_length_prefix_out_of_range_is_refused_from_its_four_bytes_alone(uint raw, bool small)
    {
        uint length = small
            ? raw % ProtocolLimits.FrameFixedBytes
            : (uint)ProtocolLimits.MaxFrameLength + 1 + (raw % (uint.MaxValue - (uint)ProtocolLimits.MaxFrameLength));
        var prefix = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, length);

        Assert.Equal(OperationStatus.InvalidData, FrameCodec.TryRead(prefix, out var frame, out int consumed, out _));
        Assert.Null(frame);
        Assert.Equal(0, consumed);
    }

    [Property(Arbitrary = [typeof(FrameArbitraries)], MaxTest = 300)]
    public void A_known_field_repeated_anywhere_is_refused(FrameCase frameCase, int pick, int position)
    {
        var known = frameCase.Fields.Where(f => FieldKinds.Of(f.Tag) != FieldKind.Unknown).ToList();
        if (known.Count == 0)
        {
            return;
        }

        var fields = frameCase.Fields.ToList();
        fields.Insert((int)((uint)position % (uint)(fields.Count + 1)), known[(int)((uint)pick % (uint)known.Count)]);
        var frame = new Frame((MessageType)frameCase.Type, frameCase.RequestId, fields);
        if (FrameCodec.GetEncodedLength(frame) - ProtocolLimits.LengthPrefixBytes > ProtocolLimits.MaxFrameLength || fields.Count > ProtocolLimits.MaxFieldsPerFrame)
        {
            return;
        }

        Assert.Equal(OperationStatus.InvalidData, FrameCodec.TryRead(FrameCodec.ToArray(frame), out _, out _, out _));
    }

    [Property(MaxTest = 1000)]
    public void Sizes_offsets_and_counts_past_2_to_the_62_are_refused_by_their_accessors(ulong value, byte which)
    {
        var tag = (which % 4) switch { 0 => FieldTag.Size, 1 => FieldTag.Offset, 2 => FieldTag.Count, _ => FieldTag.MaxFileSize };
        var bytes = FrameCodec.ToArray(new Frame(MessageType.Data, 1, Field.Unsigned(tag, value)));
        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(bytes, out var frame, out _, out _));

        if (value > (ulong)ProtocolLimits.MaxBodySize)
        {
            Assert.Throws<ProtocolViolationException>(() => frame!.GetSizeOrNull(tag));
        }
        else
        {
            Assert.Equal((long)value, frame!.GetSize(tag));
        }
    }
}
