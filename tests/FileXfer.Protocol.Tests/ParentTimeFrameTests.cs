using System.Buffers;
using FileXfer.Protocol.Framing;
using FsCheck.Xunit;

namespace FileXfer.Protocol.Tests;

/// <summary>ParentMTime (0x28, DirectoryTimes): an integer of exactly 8 bytes, signed as MTime, added last when given.</summary>
public class ParentTimeFrameTests
{
    [Property(MaxTest = 300)]
    public void A_parent_time_survives_the_wire_as_an_mtime_does(long nanoseconds, bool makeDirectory)
    {
        var time = UnixTime.FromNanoseconds(nanoseconds);
        var frame = makeDirectory ? Messages.MakeDirectory(3, "a/b", time, 0x1ED) : Messages.Put(3, "a/b", 1, "sha256", time, null, PutFlags.Chunked | PutFlags.NoWait);

        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(FrameCodec.ToArray(Messages.WithParentTime(frame, time)), out var read, out _, out _));

        Assert.Equal(Messages.ReadModified(read!), Messages.ReadParentModified(read!));
        Assert.Equal(UnixTime.ToNanoseconds(time), read!.GetInt64OrNull(FieldTag.ParentMTime));
        Assert.Equal(FieldTag.ParentMTime, read.Fields[^1].Tag);
    }

    [Fact]
    public void Without_a_parent_time_the_frame_is_left_as_it_is()
    {
        var put = Messages.Put(1, "a.txt", 3, "sha256", null, null);

        Assert.Same(put, Messages.WithParentTime(put, null));
        Assert.Null(Messages.ReadParentModified(put));
    }

    [Fact]
    public void The_parent_time_is_an_integer_of_exactly_8_bytes()
    {
        Assert.Equal(FieldKind.Integer, FieldKinds.Of(FieldTag.ParentMTime));
        var bytes = new byte[] { 0x00, 0x00, 0x00, 0x0D, 0x16, 0x00, 0x00, 0x00, 0x00, 0x01, 0x28, 0x00, 0x04, 0x00, 0x00, 0x02, 0x58 };

        Assert.Equal(OperationStatus.InvalidData, FrameCodec.TryRead(bytes, out _, out _, out _));
    }

    [Fact]
    public void Directory_times_is_bit_11_and_implemented() =>
        Assert.Equal(Capabilities.DirectoryTimes, Messages.Implemented & (Capabilities)(1 << 11));
}
