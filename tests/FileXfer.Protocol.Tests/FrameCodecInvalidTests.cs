using System.Buffers;
using FileXfer.Protocol.Framing;

namespace FileXfer.Protocol.Tests;

/// <summary>Bytes no continuation can make valid are refused with a reason, as early as possible.</summary>
public class FrameCodecInvalidTests
{
    public static TheoryData<byte> IntegerTags =>
    [
        (byte)FieldTag.Size, (byte)FieldTag.MTime, (byte)FieldTag.Offset, (byte)FieldTag.Kind, (byte)FieldTag.Mode,
        (byte)FieldTag.ErrorCode, (byte)FieldTag.Version, (byte)FieldTag.Capabilities, (byte)FieldTag.Count, (byte)FieldTag.MaxFileSize, (byte)FieldTag.Flags,
    ];

    private static readonly FieldTag[] KnownStringTags =
    [
        FieldTag.Path, FieldTag.HashAlgorithm, FieldTag.Message, FieldTag.Agent, FieldTag.HashAlgorithms, FieldTag.Name,
    ];

    public static TheoryData<byte> StringTags => [.. KnownStringTags.Select(tag => (byte)tag)];

    public static TheoryData<byte[]> InvalidUtf8 =>
    [
        new byte[] { 0xC3, 0x28 },                   // a lead byte followed by ASCII
        new byte[] { 0x80 },                         // a lone continuation byte
        new byte[] { 0xC0, 0xAF },                   // an overlong '/'
        new byte[] { 0xE0, 0x80, 0xAF },             // an overlong '/' in three bytes
        new byte[] { 0xED, 0xA0, 0x80 },             // an encoded surrogate (U+D800)
        new byte[] { 0xF4, 0x90, 0x80, 0x80 },       // above U+10FFFF
        new byte[] { 0xF8, 0x88, 0x80, 0x80, 0x80 }, // a five-byte form
        new byte[] { 0xFF },
        new byte[] { 0x61, 0xE6, 0x95 },             // a sequence cut short at the end
    ];

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(5u)]
    public void Length_below_the_fixed_part_is_refused_from_the_prefix_alone(uint length)
    {
        byte[] prefix = [(byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length];

        AssertInvalid(prefix, "shorter");
    }

    [Theory]
    [InlineData(65_537u)]
    [InlineData(0x0100_0000u)]
    [InlineData(0x7FFF_FFFFu)]
    [InlineData(0xFFFF_FFFFu)]
    public void Length_over_the_limit_is_refused_as_soon_as_the_prefix_arrives(uint length)
    {
        byte[] prefix = [(byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length];

        AssertInvalid(prefix, "exceeds");
        AssertInvalid([.. prefix, 0x21, 0x00], "exceeds");
    }

    [Theory]
    [InlineData(6u)]
    [InlineData(65_536u)]
    public void Lengths_at_the_bounds_wait_for_the_rest(uint length)
    {
        byte[] prefix = [(byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length];

        Assert.Equal(OperationStatus.NeedMoreData, FrameCodec.TryRead(prefix, out _, out _, out _));
    }

    [Theory]
    [InlineData(0x01)]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    public void Nonzero_flags_are_refused(byte flags)
    {
        var bytes = RawFrame.FromFieldArea(0x21, 1, [], flags);

        AssertInvalid(bytes, "flags");
    }

    [Fact]
    public void Nonzero_flags_are_refused_before_the_frame_is_complete()
    {
        var bytes = RawFrame.FromFieldArea(0x10, 1, RawFrame.Fields((0x01, "a.txt"u8.ToArray())), flags: 0x01);

        // Five bytes do not yet show the flags; the sixth does.
        Assert.Equal(OperationStatus.NeedMoreData, FrameCodec.TryRead(bytes.AsSpan(0, 5), out _, out _, out _));
        AssertInvalid(bytes.AsSpan(0, 6).ToArray(), "flags");
    }

    [Theory]
    [InlineData(new byte[] { 0x01 })]
    [InlineData(new byte[] { 0x01, 0x00 })]
    [InlineData(new byte[] { 0x7F })]
    public void A_field_header_cut_by_the_end_of_the_frame_is_refused(byte[] fieldArea)
    {
        AssertInvalid(RawFrame.FromFieldArea(0x12, 1, fieldArea), "cut short");
    }

    [Fact]
    public void A_field_header_cut_after_a_complete_field_is_refused()
    {
        byte[] area = [.. RawFrame.Fields((0x01, "a"u8.ToArray())), 0x04, 0x00];

        AssertInvalid(RawFrame.FromFieldArea(0x12, 1, area), "cut short");
    }

    [Theory]
    [InlineData(new byte[] { 0x01, 0x00, 0x04, 0x61, 0x62, 0x63 })]
    [InlineData(new byte[] { 0x01, 0xFF, 0xFF, 0x61 })]
    [InlineData(new byte[] { 0x7F, 0x00, 0x01 })]
    public void A_field_value_past_the_end_of_the_frame_is_refused(byte[] fieldArea)
    {
        AssertInvalid(RawFrame.FromFieldArea(0x12, 1, fieldArea), "remain");
    }

    [Theory]
    [MemberData(nameof(IntegerTags))]
    public void Integer_fields_must_be_exactly_8_bytes(byte tag)
    {
        foreach (int length in new[] { 0, 1, 4, 7, 9, 16 })
        {
            AssertInvalid(RawFrame.WithFields(0x21, 1, (tag, new byte[length])), "not 8");
        }

        AssertDone(RawFrame.WithFields(0x21, 1, (tag, new byte[8])));
    }

    [Theory]
    [MemberData(nameof(StringTags))]
    public void Strings_with_NUL_are_refused(byte tag)
    {
        AssertInvalid(RawFrame.WithFields(0x21, 1, (tag, [0x00])), "NUL");
        AssertInvalid(RawFrame.WithFields(0x21, 1, (tag, "a\0b"u8.ToArray())), "NUL");
        AssertInvalid(RawFrame.WithFields(0x21, 1, (tag, "ab\0"u8.ToArray())), "NUL");
    }

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void Strings_that_are_not_UTF8_are_refused(byte[] value)
    {
        foreach (var tag in KnownStringTags)
        {
            AssertInvalid(RawFrame.WithFields(0x21, 1, ((byte)tag, value)), "UTF-8");
        }
    }

    [Fact]
    public void Strings_with_multibyte_characters_are_accepted()
    {
        var value = "文件 😀 é"u8.ToArray();

        var frame = AssertDone(RawFrame.WithFields(0x12, 1, ((byte)FieldTag.Path, value)));

        Assert.Equal("文件 😀 é", frame.GetString(FieldTag.Path));
    }

    [Theory]
    [InlineData(FieldTag.Path, ProtocolLimits.MaxPathBytes)]
    [InlineData(FieldTag.Name, ProtocolLimits.MaxNameBytes)]
    [InlineData(FieldTag.Message, ProtocolLimits.MaxMessageBytes)]
    [InlineData(FieldTag.HashAlgorithm, ProtocolLimits.MaxAlgorithmNameBytes)]
    [InlineData(FieldTag.Agent, ProtocolLimits.MaxShortStringBytes)]
    [InlineData(FieldTag.HashAlgorithms, ProtocolLimits.MaxShortStringBytes)]
    [InlineData(FieldTag.HashValue, ProtocolLimits.MaxHashBytes)]
    public void Values_at_their_limit_are_accepted_and_one_byte_more_is_refused(FieldTag tag, int limit)
    {
        Assert.Equal(limit, FieldKinds.MaxLength(tag));
        var atLimit = Enumerable.Repeat((byte)'a', limit).ToArray();
        var overLimit = Enumerable.Repeat((byte)'a', limit + 1).ToArray();

        var frame = AssertDone(RawFrame.WithFields(0x21, 1, ((byte)tag, atLimit)));
        Assert.Equal(atLimit, frame.GetBytes(tag));
        AssertInvalid(RawFrame.WithFields(0x21, 1, ((byte)tag, overLimit)), "over the limit");
    }

    [Fact]
    public void A_path_of_4096_multibyte_bytes_is_measured_in_bytes_not_characters()
    {
        // 1366 three-byte characters are 4098 bytes, but only 1366 UTF-16 chars.
        var value = System.Text.Encoding.UTF8.GetBytes(new string('数', 1366));

        AssertInvalid(RawFrame.WithFields(0x12, 1, ((byte)FieldTag.Path, value)), "over the limit");
    }

    [Fact]
    public void An_empty_string_and_an_empty_hash_are_accepted()
    {
        var frame = AssertDone(RawFrame.WithFields(0x21, 1, ((byte)FieldTag.Path, []), ((byte)FieldTag.HashValue, [])));

        Assert.Equal(string.Empty, frame.GetString(FieldTag.Path));
        Assert.Empty(frame.GetBytes(FieldTag.HashValue));
    }

    [Theory]
    [InlineData(FieldTag.Path)]
    [InlineData(FieldTag.Size)]
    [InlineData(FieldTag.HashValue)]
    [InlineData(FieldTag.MaxFileSize)]
    public void A_known_tag_twice_is_refused(FieldTag tag)
    {
        var value = FieldKinds.Of(tag) == FieldKind.Integer ? new byte[8] : "x"u8.ToArray();

        AssertInvalid(RawFrame.WithFields(0x21, 1, ((byte)tag, value), ((byte)0x7F, []), ((byte)tag, value)), "twice");
    }

    [Fact]
    public void An_unknown_tag_may_repeat()
    {
        var frame = AssertDone(RawFrame.WithFields(0x21, 1, (0x7F, [1]), (0x7F, [2])));

        Assert.Equal(2, frame.Fields.Count);
    }

    [Fact]
    public void Sixty_four_fields_are_accepted_and_sixty_five_refused()
    {
        var sixtyFour = Enumerable.Range(0, 64).Select(i => ((byte)(0x40 + i), Array.Empty<byte>())).ToArray();
        var sixtyFive = Enumerable.Range(0, 65).Select(i => ((byte)(0x40 + i), Array.Empty<byte>())).ToArray();

        Assert.Equal(64, AssertDone(RawFrame.WithFields(0x21, 1, sixtyFour)).Fields.Count);
        AssertInvalid(RawFrame.WithFields(0x21, 1, sixtyFive), "more than 64");
    }

    [Fact]
    public void The_field_limit_counts_known_and_unknown_tags_together()
    {
        var fields = new List<(byte, byte[])> { ((byte)FieldTag.Path, "a"u8.ToArray()), ((byte)FieldTag.Size, new byte[8]) };
        fields.AddRange(Enumerable.Range(0, 63).Select(_ => ((byte)0xEE, Array.Empty<byte>())));

        AssertInvalid(RawFrame.WithFields(0x21, 1, [.. fields]), "more than 64");
    }

    [Theory]
    [InlineData((byte)0x00)]
    [InlineData((byte)0x2C)]
    [InlineData((byte)0x7F)]
    [InlineData((byte)0xFF)]
    public void Unknown_tags_are_skipped_whatever_their_value(byte tag)
    {
        // Values that no known kind would accept: NUL, invalid UTF-8, odd lengths.
        byte[] garbage = [0x00, 0xFF, 0xC0, 0x80, 0x00];
        var bytes = RawFrame.WithFields(
            (byte)MessageType.Put,
            5,
            ((byte)FieldTag.Path, "a.txt"u8.ToArray()),
            (tag, garbage),
            ((byte)FieldTag.Size, RawFrame.Int64(3)),
            (tag, []));

        var frame = AssertDone(bytes);

        Assert.Equal("a.txt", frame.GetString(FieldTag.Path));
        Assert.Equal(3, frame.GetSize(FieldTag.Size));
        Assert.Equal(FieldKind.Unknown, FieldKinds.Of((FieldTag)tag));
    }

    [Theory]
    [InlineData((byte)0x00)]
    [InlineData((byte)0x04)]
    [InlineData((byte)0x99)]
    [InlineData((byte)0xFF)]
    public void Unknown_message_types_still_decode_so_the_receiver_can_answer_them(byte type)
    {
        var frame = AssertDone(RawFrame.WithFields(type, 77, ((byte)FieldTag.Path, "x"u8.ToArray())));

        Assert.Equal((MessageType)type, frame.Type);
        Assert.Equal(77u, frame.RequestId);
    }

    private static Frame AssertDone(byte[] bytes)
    {
        var status = FrameCodec.TryRead(bytes, out var frame, out int consumed, out var error);

        Assert.True(status == OperationStatus.Done, $"expected Done, got {status}: {error}");
        Assert.Equal(bytes.Length, consumed);
        return frame!;
    }

    private static void AssertInvalid(byte[] bytes, string reason)
    {
        var status = FrameCodec.TryRead(bytes, out var frame, out int consumed, out var error);

        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Null(frame);
        Assert.Equal(0, consumed);
        Assert.NotNull(error);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
