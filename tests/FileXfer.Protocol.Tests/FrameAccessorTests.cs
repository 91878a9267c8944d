using System.Buffers;
using FileXfer.Protocol.Framing;

namespace FileXfer.Protocol.Tests;

/// <summary>The typed accessors of a decoded <see cref="Frame"/>: missing fields and out-of-range sizes.</summary>
public class FrameAccessorTests
{
    [Theory]
    [InlineData(0ul)]
    [InlineData(1ul)]
    [InlineData(1ul << 40)]
    [InlineData(1ul << 62)]
    public void GetSize_accepts_0_to_2_pow_62(ulong value)
    {
        var frame = Decode(RawFrame.WithFields(0x21, 1, ((byte)FieldTag.Size, RawFrame.UInt64(value))));

        Assert.Equal((long)value, frame.GetSize(FieldTag.Size));
        Assert.Equal((long)value, frame.GetSizeOrNull(FieldTag.Size));
    }

    [Theory]
    [InlineData((1ul << 62) + 1)]
    [InlineData(1ul << 63)]
    [InlineData(ulong.MaxValue)]
    public void GetSize_refuses_values_over_2_pow_62(ulong value)
    {
        var frame = Decode(RawFrame.WithFields(0x21, 1, ((byte)FieldTag.Size, RawFrame.UInt64(value)), ((byte)FieldTag.Offset, RawFrame.UInt64(value))));

        var exception = Assert.Throws<ProtocolViolationException>(() => frame.GetSize(FieldTag.Size));
        Assert.Equal(ErrorCode.ProtocolViolation, exception.Code);
        Assert.Throws<ProtocolViolationException>(() => frame.GetSizeOrNull(FieldTag.Offset));
    }

    [Fact]
    public void A_negative_size_built_locally_is_refused_too()
    {
        var frame = new Frame(MessageType.Put, 1, Field.Integer(FieldTag.Size, -1));

        Assert.Throws<ProtocolViolationException>(() => frame.GetSize(FieldTag.Size));
    }

    [Fact]
    public void Required_accessors_throw_a_protocol_violation_for_a_missing_field()
    {
        var frame = Decode(RawFrame.WithFields((byte)MessageType.Put, 1));

        Assert.Equal(ErrorCode.ProtocolViolation, Assert.Throws<ProtocolViolationException>(() => frame.GetString(FieldTag.Path)).Code);
        Assert.Throws<ProtocolViolationException>(() => frame.GetSize(FieldTag.Size));
        Assert.Throws<ProtocolViolationException>(() => frame.GetBytes(FieldTag.HashValue));
        var exception = Assert.Throws<ProtocolViolationException>(() => frame.GetString(FieldTag.HashAlgorithm));
        Assert.Contains("HashAlgorithm", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Optional_accessors_return_null_for_a_missing_field()
    {
        var frame = Decode(RawFrame.WithFields((byte)MessageType.Ok, 1));

        Assert.False(frame.Has(FieldTag.Path));
        Assert.Null(frame.GetStringOrNull(FieldTag.Path));
        Assert.Null(frame.GetInt64OrNull(FieldTag.MTime));
        Assert.Null(frame.GetUInt64OrNull(FieldTag.Capabilities));
        Assert.Null(frame.GetSizeOrNull(FieldTag.Size));
        Assert.Null(frame.GetBytesOrNull(FieldTag.HashValue));
    }

    [Fact]
    public void Integers_are_read_big_endian_signed_and_unsigned()
    {
        byte[] value = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE];
        byte[] small = [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02];
        var frame = Decode(RawFrame.WithFields(0x21, 1, ((byte)FieldTag.MTime, value), ((byte)FieldTag.Mode, small)));

        Assert.Equal(-2, frame.GetInt64OrNull(FieldTag.MTime));
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFEul, frame.GetUInt64OrNull(FieldTag.MTime));
        Assert.Equal(0x0102, frame.GetInt64OrNull(FieldTag.Mode));
    }

    [Fact]
    public void Fields_keep_wire_order_and_GetBytes_returns_a_copy()
    {
        var frame = Decode(GoldenFrames.HashOk);

        Assert.Equal([FieldTag.Path, FieldTag.Size, FieldTag.HashAlgorithm, FieldTag.HashValue], frame.Fields.Select(f => f.Tag));
        var first = frame.GetBytes(FieldTag.HashValue);
        first[0] ^= 0xFF;
        Assert.Equal(GoldenFrames.AbcSha256, frame.GetBytes(FieldTag.HashValue));
    }

    [Fact]
    public void ToString_names_the_type_the_id_and_the_field_count()
    {
        Assert.Equal("Put #7 (5 fields)", Decode(GoldenFrames.Put).ToString());
    }

    [Fact]
    public void The_first_of_repeated_unknown_fields_is_the_one_found()
    {
        var frame = Decode(RawFrame.WithFields(0x21, 1, (0x70, [1]), (0x70, [2])));

        Assert.Equal(new byte[] { 1 }, frame.GetBytes((FieldTag)0x70));
    }

    private static Frame Decode(byte[] bytes)
    {
        var status = FrameCodec.TryRead(bytes, out var frame, out _, out var error);
        Assert.True(status == OperationStatus.Done, error);
        return frame!;
    }
}
