using System.Buffers;
using FileXfer.Protocol.Framing;

namespace FileXfer.Protocol.Tests;

/// <summary>Partial input: every strict prefix of a valid frame asks for more data, and nothing past a frame is taken.</summary>
public class FramePrefixTests
{
    public static TheoryData<string> Names => [.. GoldenFrames.Names];

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_strict_prefix_needs_more_data(string name)
    {
        var bytes = GoldenFrames.Build()[name].Bytes;

        for (int length = 0; length < bytes.Length; length++)
        {
            var status = FrameCodec.TryRead(bytes.AsSpan(0, length), out var frame, out int consumed, out var error);

            Assert.True(status == OperationStatus.NeedMoreData, $"prefix of {length} bytes gave {status}: {error}");
            Assert.Null(frame);
            Assert.Equal(0, consumed);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_whole_frame_is_done_and_consumed_exactly(string name)
    {
        var bytes = GoldenFrames.Build()[name].Bytes;

        var status = FrameCodec.TryRead(bytes, out var frame, out int consumed, out var error);

        Assert.Equal(OperationStatus.Done, status);
        Assert.NotNull(frame);
        Assert.Null(error);
        Assert.Equal(bytes.Length, consumed);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Trailing_bytes_after_a_frame_are_not_consumed(string name)
    {
        var bytes = GoldenFrames.Build()[name].Bytes;
        byte[] input = [.. bytes, .. GoldenFrames.Ready, 0xFF, 0xFF];

        var status = FrameCodec.TryRead(input, out _, out int consumed, out _);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(bytes.Length, consumed);

        // The bytes left over start the next frame, which decodes on its own.
        status = FrameCodec.TryRead(input.AsSpan(consumed), out var next, out int nextConsumed, out _);
        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(MessageType.Ready, next!.Type);
        Assert.Equal(GoldenFrames.Ready.Length, nextConsumed);

        // And what is after that is an incomplete prefix (length 0xFFFF.... is not yet known).
        Assert.Equal(OperationStatus.NeedMoreData, FrameCodec.TryRead(input.AsSpan(consumed + nextConsumed), out _, out _, out _));
    }

    [Fact]
    public void Several_frames_back_to_back_decode_one_after_another()
    {
        var all = GoldenFrames.Build().Values.ToList();
        byte[] input = [.. all.SelectMany(golden => golden.Bytes)];

        int offset = 0;
        foreach (var (expected, bytes) in all)
        {
            var status = FrameCodec.TryRead(input.AsSpan(offset), out var frame, out int consumed, out _);
            Assert.Equal(OperationStatus.Done, status);
            Assert.Equal(expected.Type, frame!.Type);
            Assert.Equal(expected.RequestId, frame.RequestId);
            Assert.Equal(bytes.Length, consumed);
            offset += consumed;
        }

        Assert.Equal(input.Length, offset);
    }

    [Fact]
    public void The_smallest_frame_has_no_fields()
    {
        byte[] bytes = [0x00, 0x00, 0x00, 0x06, 0x21, 0x00, 0x00, 0x00, 0x00, 0x2A];

        var status = FrameCodec.TryRead(bytes, out var frame, out int consumed, out _);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Equal(10, consumed);
        Assert.Equal(MessageType.Ok, frame!.Type);
        Assert.Equal(42u, frame.RequestId);
        Assert.Empty(frame.Fields);
    }

    [Fact]
    public void A_frame_of_exactly_the_maximum_length_is_accepted()
    {
        // 6 fixed bytes + one unknown field: 3 header bytes + 65 527 value bytes = 65 536.
        var value = new byte[ProtocolLimits.MaxFrameLength - ProtocolLimits.FrameFixedBytes - ProtocolLimits.FieldHeaderBytes];
        var bytes = RawFrame.WithFields(0x21, 1, (0x7F, value));
        Assert.Equal(ProtocolLimits.LengthPrefixBytes + ProtocolLimits.MaxFrameLength, bytes.Length);

        Assert.Equal(OperationStatus.NeedMoreData, FrameCodec.TryRead(bytes.AsSpan(0, 4), out _, out _, out _));
        Assert.Equal(OperationStatus.NeedMoreData, FrameCodec.TryRead(bytes.AsSpan(0, bytes.Length - 1), out _, out _, out _));
        var status = FrameCodec.TryRead(bytes, out var frame, out int consumed, out var error);

        Assert.True(status == OperationStatus.Done, error);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(value.Length, frame!.Fields[0].Value.Length);
    }

    [Fact]
    public void Decoded_fields_do_not_alias_the_input()
    {
        var input = (byte[])GoldenFrames.Get.Clone();
        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(input, out var frame, out _, out _));

        Array.Fill(input, (byte)0);

        Assert.Equal("docs/a.txt", frame!.GetString(FieldTag.Path));
    }
}
