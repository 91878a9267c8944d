using System.Buffers;
using System.Buffers.Binary;
using FileXfer.Protocol.Framing;
using FsCheck.Xunit;

namespace FileXfer.Protocol.Tests;

/// <summary>
/// Working (0x26, WorkingBeats): a request id and how many bytes of the work are done (Offset). Read from the network
/// by every client that announced WorkingBeats, so what it makes of any bytes is checked here.
/// </summary>
public class WorkingFrameTests
{
    [Property(MaxTest = 300)]
    public void A_working_frame_decodes_to_its_request_and_bytes_done(uint requestId, ulong raw)
    {
        long done = (long)(raw % ((ulong)ProtocolLimits.MaxBodySize + 1));

        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(FrameCodec.ToArray(Messages.Working(requestId, done)), out var read, out int consumed, out _));

        Assert.Equal(MessageType.Working, read!.Type);
        Assert.Equal(requestId, read.RequestId);
        Assert.Equal(done, Messages.ReadWorkingDone(read));
        Assert.Equal(ProtocolLimits.LengthPrefixBytes + 17, consumed);
    }

    [Property(MaxTest = 300)]
    public void A_count_over_the_size_limit_is_a_protocol_violation_and_an_absent_one_is_0(ulong raw)
    {
        ulong over = (ulong)ProtocolLimits.MaxBodySize + 1 + (raw % (ulong.MaxValue - (ulong)ProtocolLimits.MaxBodySize));
        var value = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(value, over);
        var bytes = RawFrame.WithFields((byte)MessageType.Working, 3, ((byte)FieldTag.Offset, value));

        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(bytes, out var read, out _, out _));
        Assert.Throws<ProtocolViolationException>(() => Messages.ReadWorkingDone(read!));
        Assert.Equal(0, Messages.ReadWorkingDone(new Frame(MessageType.Working, 3)));
    }

    [Property(MaxTest = 500)]
    public void Any_byte_of_a_working_frame_changed_gives_a_frame_a_need_for_more_or_invalid_data_never_another_exception(uint requestId, long done, byte position, byte value)
    {
        var original = FrameCodec.ToArray(Messages.Working(requestId, done & ProtocolLimits.MaxBodySize));
        var bytes = (byte[])original.Clone();
        bytes[position % bytes.Length] = value;

        var status = FrameCodec.TryRead(bytes, out var read, out _, out _);

        Assert.True(status is OperationStatus.Done or OperationStatus.NeedMoreData or OperationStatus.InvalidData, status.ToString());
        if (status == OperationStatus.Done && read!.Type == MessageType.Working)
        {
            // Whatever the count says, it is read as a size in range or refused as a protocol violation.
            var outcome = Record.Exception(() => Assert.InRange(Messages.ReadWorkingDone(read), 0, ProtocolLimits.MaxBodySize));
            Assert.True(outcome is null or ProtocolViolationException, outcome?.ToString());
        }
    }

    [Property(MaxTest = 500)]
    public void Garbage_after_a_working_header_is_read_as_a_frame_or_refused(uint requestId, byte[] fieldArea)
    {
        fieldArea ??= [];
        var bytes = RawFrame.FromFieldArea((byte)MessageType.Working, requestId, fieldArea.AsSpan(0, Math.Min(fieldArea.Length, 600)));

        var status = FrameCodec.TryRead(bytes, out var read, out _, out _);

        Assert.True(status is OperationStatus.Done or OperationStatus.InvalidData, status.ToString());
        if (status == OperationStatus.Done)
        {
            Assert.Equal(requestId, read!.RequestId);
            var outcome = Record.Exception(() => Assert.InRange(Messages.ReadWorkingDone(read), 0, ProtocolLimits.MaxBodySize));
            Assert.True(outcome is null or ProtocolViolationException, outcome?.ToString());
        }
    }

    [Fact]
    public void Every_strict_prefix_of_a_working_frame_needs_more_data()
    {
        var bytes = GoldenFrames.Working;
        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, FrameCodec.TryRead(bytes.AsSpan(0, length), out _, out _, out _));
        }
    }

    [Fact]
    public void Only_a_working_frame_is_read_as_one() =>
        Assert.Throws<ProtocolViolationException>(() => Messages.ReadWorkingDone(Messages.Ok(12, Field.Integer(FieldTag.Offset, 5))));

    [Fact]
    public void The_numbers_are_bit_12_and_type_0x26_the_one_after_omitted()
    {
        Assert.Equal(0x1000UL, (ulong)Capabilities.WorkingBeats);
        Assert.Equal(0x26, (byte)MessageType.Working);
        Assert.Equal((byte)MessageType.Omitted + 1, (byte)MessageType.Working);
        Assert.True(Messages.Implemented.HasFlag(Capabilities.WorkingBeats));
    }
}
