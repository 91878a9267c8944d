using System.Buffers;
using System.Buffers.Binary;
using FileXfer.Protocol.Framing;
using FsCheck.Xunit;

namespace FileXfer.Protocol.Tests;

/// <summary>
/// ParentTimeNotSet (0x29, DirectoryTimes): in the Ok to a request that carried ParentMTime, an integer of exactly
/// 8 bytes, 1, added last only when the server could not set that time; any other value but 0 reads as "not set".
/// </summary>
public class ParentTimeNotSetFrameTests
{
    [Fact]
    public void The_field_is_added_last_with_value_1_only_when_the_time_was_not_set()
    {
        var ok = Messages.HashOk(7, "docs/a.txt", 3, "sha256", GoldenFrames.AbcSha256);

        var marked = Messages.WithParentTimeNotSet(ok, notSet: true);

        Assert.Same(ok, Messages.WithParentTimeNotSet(ok, notSet: false));
        Assert.False(Messages.ReadParentTimeNotSet(ok));
        Assert.Equal(FieldTag.ParentTimeNotSet, marked.Fields[^1].Tag);
        Assert.Equal(1UL, marked.GetUInt64OrNull(FieldTag.ParentTimeNotSet));
        Assert.True(Messages.ReadParentTimeNotSet(marked));
    }

    [Property(MaxTest = 200)]
    public void Any_value_but_0_read_from_the_wire_means_not_set(ulong value, bool makeDirectory)
    {
        var ok = makeDirectory
            ? Messages.Describe(MessageType.Ok, 5, new RemoteEntry("d/e", EntryKind.Directory, 0, GoldenFrames.Modified, 0x1ED))
            : Messages.HashOk(5, "a", 3, "sha256", GoldenFrames.AbcSha256);
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        var frame = new Frame(MessageType.Ok, 5, [.. ok.Fields, new Field(FieldTag.ParentTimeNotSet, bytes)]);

        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(FrameCodec.ToArray(frame), out var read, out _, out _));

        Assert.Equal(value != 0, Messages.ReadParentTimeNotSet(read!));
        Assert.Equal(ok.GetStringOrNull(FieldTag.Path), read!.GetStringOrNull(FieldTag.Path));
    }

    [Fact]
    public void The_field_is_an_integer_of_exactly_8_bytes()
    {
        Assert.Equal(FieldKind.Integer, FieldKinds.Of(FieldTag.ParentTimeNotSet));
        Assert.Equal(8, FieldKinds.MaxLength(FieldTag.ParentTimeNotSet));

        // An Ok (request 1) whose ParentTimeNotSet has 1 byte.
        var bytes = new byte[] { 0x00, 0x00, 0x00, 0x0A, 0x21, 0x00, 0x00, 0x00, 0x00, 0x01, 0x29, 0x00, 0x01, 0x01 };

        Assert.Equal(OperationStatus.InvalidData, FrameCodec.TryRead(bytes, out _, out _, out _));
    }

    [Fact]
    public void The_tag_is_0x29_the_one_after_parent_mtime() =>
        Assert.Equal(0x29, (byte)FieldTag.ParentTimeNotSet);
}
