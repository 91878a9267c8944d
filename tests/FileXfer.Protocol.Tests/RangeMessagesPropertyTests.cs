using System.Buffers;
using FileXfer.Protocol.Framing;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace FileXfer.Protocol.Tests;

/// <summary>The frames of ParallelStreams through the codec: TransferId, RangeOffset and RangeLength in every message that carries them.</summary>
public class RangeMessagesPropertyTests
{
    [Property(Arbitrary = [typeof(RangeArbitraries)], MaxTest = 300)]
    public void A_ranged_put_get_data_and_assemble_decode_to_what_was_encoded(RangeCase c)
    {
        var range = new FileRange(c.Offset, c.Length);
        var put = Decode(RangeMessages.Put(c.RequestId, "a/b.bin", c.Size, "sha256", c.TransferId, range));
        var get = Decode(RangeMessages.Get(c.RequestId, "a/b.bin", "xxh128", range, c.Held, c.Held > 0 ? c.TransferId : null));
        var data = Decode(RangeMessages.Data(c.RequestId, c.Size, "sha256", DateTimeOffset.UnixEpoch, 0x1A4, range, c.Held));
        var assemble = Decode(RangeMessages.Assemble(c.RequestId, "a/b.bin", c.Size, "sha256", c.TransferId, c.TransferId, DateTimeOffset.UnixEpoch, 0x1A4));

        Assert.Equal(range, RangeMessages.ReadRange(put));
        Assert.Equal(PutFlags.Range, (PutFlags)put.GetUInt64OrNull(FieldTag.Flags)!.Value);
        Assert.Equal(c.TransferId, put.GetBytes(FieldTag.TransferId));
        Assert.Equal(c.Size, put.GetSize(FieldTag.Size));
        Assert.Equal(range, RangeMessages.ReadRange(get));
        Assert.Equal(c.Held > 0 ? c.Held : null, get.GetSizeOrNull(FieldTag.Offset));
        Assert.Equal(range, RangeMessages.ReadRange(data));
        Assert.Equal(c.Held != 0 ? c.Held : null, data.GetSizeOrNull(FieldTag.Offset));
        Assert.Null(RangeMessages.ReadRange(assemble));
        Assert.Equal(MessageType.Assemble, assemble.Type);
        Assert.Equal(c.TransferId, assemble.GetBytes(FieldTag.TransferId));
        Assert.Equal(c.TransferId, assemble.GetBytes(FieldTag.HashValue));
    }

    [Property(MaxTest = 300)]
    public void Split_cuts_a_file_into_contiguous_ranges_of_nearly_equal_length(PositiveInt size, PositiveInt count)
    {
        int n = (count.Get % ParallelTransferLimit) + 1;
        var ranges = FileRange.Split(size.Get, n);

        Assert.Equal(Math.Min(n, size.Get), ranges.Count);
        Assert.Equal(0, ranges[0].Offset);
        Assert.Equal(size.Get, ranges[^1].End);
        for (int i = 1; i < ranges.Count; i++)
        {
            Assert.Equal(ranges[i - 1].End, ranges[i].Offset);
        }

        Assert.InRange(ranges.Max(r => r.Length) - ranges.Min(r => r.Length), 0, 1);
        Assert.All(ranges, r => Assert.True(r.FitsIn(size.Get)));
    }

    [Fact]
    public void A_range_with_only_one_of_its_two_fields_is_a_protocol_violation()
    {
        var frame = Decode(new Frame(MessageType.Get, 1, Field.String(FieldTag.Path, "a"), Field.Integer(FieldTag.RangeOffset, 5)));

        Assert.Throws<ProtocolViolationException>(() => RangeMessages.ReadRange(frame));
    }

    [Fact]
    public void A_transfer_id_longer_than_32_bytes_makes_the_frame_invalid()
    {
        var bytes = RawFrame.WithFields((byte)MessageType.Put, 1, ((byte)FieldTag.TransferId, new byte[33]));

        Assert.Equal(OperationStatus.InvalidData, FrameCodec.TryRead(bytes, out _, out _, out _));
    }

    [Theory]
    [InlineData(0, 0, 10, false)]
    [InlineData(0, 10, 10, true)]
    [InlineData(5, 6, 10, false)]
    [InlineData(10, 1, 10, false)]
    [InlineData(4611686018427387904, 1, 10, false)]
    public void Fits_in_refuses_empty_and_out_of_bounds_ranges(long offset, long length, long size, bool fits)
    {
        Assert.Equal(fits, new FileRange(offset, length).FitsIn(size));
    }

    private const int ParallelTransferLimit = 16;

    private static Frame Decode(Frame frame)
    {
        var bytes = FrameCodec.ToArray(frame);
        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(bytes, out var decoded, out _, out var error));
        Assert.NotNull(decoded);
        return decoded;
    }
}

/// <summary>A valid ranged request: a file size, a range within it, bytes held of the range, a transfer id.</summary>
public sealed record RangeCase(uint RequestId, long Size, long Offset, long Length, long Held, byte[] TransferId);

/// <summary>Generators of <see cref="RangeCase"/>.</summary>
public static class RangeArbitraries
{
    /// <summary>Sizes up to 2^62, ranges within them, transfer ids of 1 to 32 bytes.</summary>
    public static Arbitrary<RangeCase> RangeCase() =>
        (from requestId in Gen.Choose(0, int.MaxValue).Select(i => (uint)i)
         from size in Gen.OneOf(Gen.Choose(1, 1 << 20).Select(i => (long)i), Gen.Elements(ProtocolLimits.MaxBodySize, 200L * 1024 * 1024))
         from offsetPart in Gen.Choose(0, 1000)
         from lengthPart in Gen.Choose(1, 1000)
         from heldPart in Gen.Choose(0, 1000)
         from idLength in Gen.Choose(1, ProtocolLimits.MaxTransferIdBytes)
         from id in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), idLength)
         let offset = (long)(size * (offsetPart / 1001.0))
         let length = Math.Max(1, (long)((size - offset) * (lengthPart / 1000.0)))
         let held = (long)(length * (heldPart / 1000.0))
         select new RangeCase(requestId, size, offset, Math.Min(length, size - offset), held, id)).ToArbitrary();
}
