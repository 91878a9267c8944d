using System.Buffers;
using FileXfer.Protocol.Framing;
using FsCheck.Xunit;

namespace FileXfer.Protocol.Tests;

/// <summary>Properties of the codec over random frames and random bytes.</summary>
public class FrameCodecPropertyTests
{
    [Property(Arbitrary = [typeof(FrameArbitraries)], MaxTest = 300)]
    public void Encode_then_decode_gives_back_the_frame(FrameCase frameCase)
    {
        var frame = frameCase.ToFrame();
        var bytes = FrameCodec.ToArray(frame);

        var status = FrameCodec.TryRead(bytes, out var decoded, out int consumed, out var error);

        Assert.True(status == OperationStatus.Done, error);
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal(frame.Type, decoded!.Type);
        Assert.Equal(frame.RequestId, decoded.RequestId);
        Assert.Equal(frame.Fields.Count, decoded.Fields.Count);
        for (int i = 0; i < frame.Fields.Count; i++)
        {
            Assert.Equal(frame.Fields[i].Tag, decoded.Fields[i].Tag);
            Assert.Equal(frame.Fields[i].Value.ToArray(), decoded.Fields[i].Value.ToArray());
        }

        Assert.Equal(bytes, FrameCodec.ToArray(decoded));
    }

    [Property(Arbitrary = [typeof(FrameArbitraries)], MaxTest = 100)]
    public void Every_strict_prefix_of_a_random_frame_needs_more_data(FrameCase frameCase)
    {
        var bytes = FrameCodec.ToArray(frameCase.ToFrame());

        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, FrameCodec.TryRead(bytes.AsSpan(0, length), out _, out _, out _));
        }
    }

    [Property(Arbitrary = [typeof(FrameArbitraries)], MaxTest = 200)]
    public void Decoding_stops_at_the_end_of_the_frame(FrameCase frameCase, byte[] trailing)
    {
        var bytes = FrameCodec.ToArray(frameCase.ToFrame());
        byte[] input = [.. bytes, .. trailing ?? []];

        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(input, out _, out int consumed, out _));
        Assert.Equal(bytes.Length, consumed);
    }

    [Property(MaxTest = 1000)]
    public void Decoding_arbitrary_bytes_never_throws(byte[] bytes)
    {
        AssertWellBehaved(bytes ?? []);
    }

    [Property(Arbitrary = [typeof(FrameArbitraries)], MaxTest = 1000)]
    public void Decoding_frame_shaped_garbage_never_throws(FrameShapedBytes input)
    {
        AssertWellBehaved(input.Bytes);
    }

    [Property(Arbitrary = [typeof(FrameArbitraries)], MaxTest = 1000)]
    public void Changing_one_byte_of_a_valid_frame_never_throws(MutatedFrame mutation)
    {
        AssertWellBehaved(mutation.Apply());
    }

    private static void AssertWellBehaved(byte[] bytes)
    {
        var status = FrameCodec.TryRead(bytes, out var frame, out int consumed, out var error);

        switch (status)
        {
            case OperationStatus.Done:
                Assert.NotNull(frame);
                Assert.InRange(consumed, 10, bytes.Length);
                Assert.Null(error);
                ReadEveryKnownField(frame);
                break;
            case OperationStatus.NeedMoreData:
                Assert.Null(frame);
                Assert.Equal(0, consumed);
                break;
            case OperationStatus.InvalidData:
                Assert.Null(frame);
                Assert.Equal(0, consumed);
                Assert.False(string.IsNullOrEmpty(error));
                break;
            default:
                Assert.Fail($"unexpected status {status}");
                break;
        }
    }

    // Whatever decodes, its known fields can be read with the accessor of their kind without throwing.
    private static void ReadEveryKnownField(Frame frame)
    {
        foreach (var field in frame.Fields)
        {
            switch (FieldKinds.Of(field.Tag))
            {
                case FieldKind.Integer:
                    _ = frame.GetInt64OrNull(field.Tag);
                    _ = frame.GetUInt64OrNull(field.Tag);
                    break;
                case FieldKind.String:
                    _ = frame.GetString(field.Tag);
                    break;
                case FieldKind.Bytes:
                    Assert.InRange(frame.GetBytes(field.Tag).Length, 0, FieldKinds.MaxLength(field.Tag));
                    break;
            }
        }
    }
}
