using System.Buffers;
using System.Text;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Tests;

/// <summary>The message builders and readers beyond the golden bytes: entries, errors and times.</summary>
public class MessagesTests
{
    [Fact]
    public void Hello_and_Welcome_advertise_every_supported_hash_algorithm_in_order()
    {
        var hello = Messages.Hello(ProtocolLimits.Version, Capabilities.None, "test");
        var welcome = Messages.Welcome(ProtocolLimits.Version, Capabilities.None, "test", 0);

        Assert.Equal("sha256,xxh128,blake3", hello.GetString(FieldTag.HashAlgorithms));
        Assert.Equal(string.Join(',', HashAlgorithms.Supported), welcome.GetString(FieldTag.HashAlgorithms));
        Assert.Equal(HashAlgorithms.Sha256, HashAlgorithms.Default);
    }

    [Theory]
    [InlineData(Capabilities.ChunkedBody, 0x01ul)]
    [InlineData(Capabilities.Resume, 0x02ul)]
    [InlineData(Capabilities.Authentication, 0x04ul)]
    [InlineData(Capabilities.ParallelStreams, 0x08ul)]
    [InlineData(Capabilities.PipelinedAuthentication, 0x400ul)]
    public void Capability_bits_have_stable_positions(Capabilities capability, ulong bit)
    {
        var bytes = FrameCodec.ToArray(Messages.Hello(1, capability, "a"));
        var frame = Decode(bytes);

        Assert.Equal(bit, frame.GetUInt64OrNull(FieldTag.Capabilities));
    }

    [Fact]
    public void Put_carries_mtime_and_mode_only_when_given()
    {
        var withBoth = Messages.Put(1, "a", 0, "sha256", GoldenFrames.Modified, 0x1FF);
        var withNeither = Messages.Put(1, "a", 0, "sha256", null, null);

        Assert.Equal([FieldTag.Path, FieldTag.Size, FieldTag.HashAlgorithm, FieldTag.MTime, FieldTag.Mode], withBoth.Fields.Select(f => f.Tag));
        Assert.Equal([FieldTag.Path, FieldTag.Size, FieldTag.HashAlgorithm], withNeither.Fields.Select(f => f.Tag));
    }

    [Fact]
    public void Data_carries_mode_only_when_given()
    {
        var frame = Decode(FrameCodec.ToArray(Messages.Data(3, 10, "sha256", GoldenFrames.Modified, 0x1ED)));

        Assert.Equal(0x1ED, frame.GetInt64OrNull(FieldTag.Mode));
    }

    [Theory]
    [InlineData(MessageType.Ok)]
    [InlineData(MessageType.Entry)]
    public void Describe_and_ReadEntry_round_trip(MessageType type)
    {
        var entry = new RemoteEntry("répertoire 😀", EntryKind.Other, 1234, new DateTimeOffset(2001, 2, 3, 4, 5, 6, 789, TimeSpan.Zero), 0x1B6);

        var frame = Decode(FrameCodec.ToArray(Messages.Describe(type, 4, entry)));

        Assert.Equal(type == MessageType.Entry, frame.Has(FieldTag.Name));
        Assert.Equal(type == MessageType.Ok, frame.Has(FieldTag.Path));
        Assert.Equal(entry, Messages.ReadEntry(frame));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(4L)]
    [InlineData(-1L)]
    [InlineData(long.MaxValue)]
    public void ReadEntry_maps_an_unknown_kind_to_Other(long kind)
    {
        var frame = Decode(RawFrame.WithFields(
            (byte)MessageType.Entry,
            1,
            ((byte)FieldTag.Name, "x"u8.ToArray()),
            ((byte)FieldTag.Kind, RawFrame.Int64(kind)),
            ((byte)FieldTag.Size, RawFrame.Int64(0))));

        Assert.Equal(EntryKind.Other, Messages.ReadEntry(frame).Kind);
    }

    [Fact]
    public void ReadEntry_maps_a_kind_that_only_matches_File_in_its_low_32_bits_to_Other()
    {
        // 0x1_0000_0001 is not a defined EntryKind; only its low 32 bits (1) are.
        var frame = Decode(RawFrame.WithFields(
            (byte)MessageType.Entry,
            1,
            ((byte)FieldTag.Name, "x"u8.ToArray()),
            ((byte)FieldTag.Kind, RawFrame.Int64(0x1_0000_0001)),
            ((byte)FieldTag.Size, RawFrame.Int64(0))));

        Assert.Equal(EntryKind.Other, Messages.ReadEntry(frame).Kind);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(0x10000L)]
    [InlineData(long.MinValue)]
    public void ReadEntry_drops_a_mode_out_of_range(long mode)
    {
        var frame = Decode(RawFrame.WithFields(
            (byte)MessageType.Entry,
            1,
            ((byte)FieldTag.Name, "x"u8.ToArray()),
            ((byte)FieldTag.Kind, RawFrame.Int64(1)),
            ((byte)FieldTag.Size, RawFrame.Int64(0)),
            ((byte)FieldTag.Mode, RawFrame.Int64(mode))));

        Assert.Null(Messages.ReadEntry(frame).Mode);
    }

    [Fact]
    public void ReadEntry_without_mtime_gives_the_epoch()
    {
        var frame = Decode(RawFrame.WithFields(
            (byte)MessageType.Entry,
            1,
            ((byte)FieldTag.Name, "x"u8.ToArray()),
            ((byte)FieldTag.Kind, RawFrame.Int64(1)),
            ((byte)FieldTag.Size, RawFrame.Int64(0))));

        Assert.Equal(DateTimeOffset.UnixEpoch, Messages.ReadEntry(frame).ModifiedUtc);
    }

    [Theory]
    [InlineData(FieldTag.Name)]
    [InlineData(FieldTag.Kind)]
    [InlineData(FieldTag.Size)]
    public void ReadEntry_refuses_an_entry_without_a_required_field(FieldTag missing)
    {
        var fields = new List<(byte, byte[])>();
        if (missing != FieldTag.Name)
        {
            fields.Add(((byte)FieldTag.Name, "x"u8.ToArray()));
        }

        if (missing != FieldTag.Kind)
        {
            fields.Add(((byte)FieldTag.Kind, RawFrame.Int64(1)));
        }

        if (missing != FieldTag.Size)
        {
            fields.Add(((byte)FieldTag.Size, RawFrame.Int64(1)));
        }

        var frame = Decode(RawFrame.WithFields((byte)MessageType.Entry, 1, [.. fields]));

        Assert.Throws<ProtocolViolationException>(() => Messages.ReadEntry(frame));
    }

    [Fact]
    public void ReadEntry_refuses_a_size_over_2_pow_62()
    {
        var frame = Decode(RawFrame.WithFields(
            (byte)MessageType.Entry,
            1,
            ((byte)FieldTag.Name, "x"u8.ToArray()),
            ((byte)FieldTag.Kind, RawFrame.Int64(1)),
            ((byte)FieldTag.Size, RawFrame.UInt64(ulong.MaxValue))));

        Assert.Throws<ProtocolViolationException>(() => Messages.ReadEntry(frame));
    }

    [Fact]
    public void EndOfList_and_Ready_carry_their_numbers()
    {
        Assert.Equal(1_000_000, Decode(FrameCodec.ToArray(Messages.EndOfList(1, 1_000_000))).GetSize(FieldTag.Count));
        Assert.Equal(0, Decode(FrameCodec.ToArray(Messages.Ready(1, 0))).GetSize(FieldTag.Offset));
    }

    [Theory]
    [InlineData(ErrorCode.NotFound)]
    [InlineData(ErrorCode.IntegrityMismatch)]
    [InlineData(ErrorCode.UnsupportedVersion)]
    [InlineData(ErrorCode.Internal)]
    public void Error_frames_become_remote_exceptions_with_the_same_code(ErrorCode code)
    {
        var frame = Decode(FrameCodec.ToArray(Messages.Error(3, code, "it failed")));

        var exception = Messages.ToException(frame);

        Assert.Equal(code, exception.Code);
        Assert.Equal("it failed", exception.Message);
        Assert.True(exception.IsRemote);
        Assert.IsType<FileXferException>(exception);
    }

    [Fact]
    public void A_remote_protocol_violation_becomes_a_ProtocolViolationException_marked_remote()
    {
        var frame = Decode(FrameCodec.ToArray(Messages.Error(3, ErrorCode.ProtocolViolation, "bad frame")));

        var exception = Messages.ToException(frame);

        Assert.IsType<ProtocolViolationException>(exception);
        Assert.Equal(ErrorCode.ProtocolViolation, exception.Code);
        Assert.Equal("bad frame", exception.Message);

        // ToException documents that the exception is "marked as remote", and every other code is.
        Assert.True(exception.IsRemote);
    }

    [Fact]
    public void An_unknown_or_missing_error_code_becomes_Internal()
    {
        var unknown = Decode(RawFrame.WithFields((byte)MessageType.Error, 1, ((byte)FieldTag.ErrorCode, RawFrame.Int64(999))));
        var missing = Decode(RawFrame.WithFields((byte)MessageType.Error, 1));

        Assert.Equal(ErrorCode.Internal, Messages.ToException(unknown).Code);
        Assert.Equal(ErrorCode.Internal, Messages.ToException(missing).Code);
        Assert.Equal("error", Messages.ToException(missing).Message);
    }

    [Fact]
    public void Error_cuts_a_long_message_to_fit_the_message_limit()
    {
        var frame = Messages.Error(1, ErrorCode.Internal, new string('x', 5000));

        var decoded = Decode(FrameCodec.ToArray(frame));

        var message = decoded.GetString(FieldTag.Message);
        Assert.True(Encoding.UTF8.GetByteCount(message) <= ProtocolLimits.MaxMessageBytes);
        Assert.StartsWith("xxxx", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_cuts_a_long_message_of_three_byte_characters_within_the_limit()
    {
        var frame = Messages.Error(1, ErrorCode.Internal, new string('数', 2000));

        var message = Decode(FrameCodec.ToArray(frame)).GetString(FieldTag.Message);

        Assert.True(Encoding.UTF8.GetByteCount(message) <= ProtocolLimits.MaxMessageBytes);
    }

    [Fact]
    public void Error_cuts_a_long_message_without_splitting_a_surrogate_pair()
    {
        // The cut falls between the two UTF-16 halves of the emoji at index 255-256.
        var text = new string('a', 255) + "😀" + new string('b', 100);

        var frame = Messages.Error(1, ErrorCode.Internal, text);

        var message = Decode(FrameCodec.ToArray(frame)).GetString(FieldTag.Message);
        Assert.StartsWith(new string('a', 255), message, StringComparison.Ordinal);
        Assert.True(Encoding.UTF8.GetByteCount(message) <= ProtocolLimits.MaxMessageBytes);
    }

    [Fact]
    public void UnixTime_round_trips_at_100_ns_resolution()
    {
        var times = new[]
        {
            DateTimeOffset.UnixEpoch,
            GoldenFrames.Modified,
            new DateTimeOffset(1969, 12, 31, 23, 59, 59, 999, TimeSpan.Zero),
            new DateTimeOffset(1700, 1, 1, 0, 0, 0, TimeSpan.Zero),
            new DateTimeOffset(2200, 6, 1, 12, 0, 0, TimeSpan.FromHours(2)).AddTicks(7),
        };

        foreach (var time in times)
        {
            Assert.Equal(time, UnixTime.FromNanoseconds(UnixTime.ToNanoseconds(time)));
        }

        Assert.Equal(0, UnixTime.ToNanoseconds(DateTimeOffset.UnixEpoch));
        Assert.Equal(1_700_000_000_000_000_000, UnixTime.ToNanoseconds(GoldenFrames.Modified));
    }

    [Fact]
    public void UnixTime_clamps_what_DateTimeOffset_cannot_hold()
    {
        Assert.Equal(new DateTimeOffset(2262, 4, 11, 23, 47, 16, TimeSpan.Zero).AddTicks(8547758), UnixTime.FromNanoseconds(long.MaxValue));
        Assert.Equal(DateTimeOffset.UnixEpoch.AddTicks(long.MinValue / 100), UnixTime.FromNanoseconds(long.MinValue));
    }

    [Fact]
    public void UnixTime_does_not_wrap_around_for_times_past_the_64_bit_nanosecond_range()
    {
        // 2^63 ns after the epoch is 2262-04-11; later times (and times before 1677-09-21) do not fit.
        // Whatever ToNanoseconds does with them, a later time must not come out as an earlier one.
        var inRange = UnixTime.ToNanoseconds(new DateTimeOffset(2262, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var beyond = UnixTime.ToNanoseconds(new DateTimeOffset(2300, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var farBefore = UnixTime.ToNanoseconds(new DateTimeOffset(1600, 1, 1, 0, 0, 0, TimeSpan.Zero));

        Assert.True(beyond >= inRange, $"2300-01-01 encodes as {beyond} ns, before 2262-01-01 ({inRange} ns)");
        Assert.True(farBefore <= 0, $"1600-01-01 encodes as {farBefore} ns, after the epoch");
    }

    private static Frame Decode(byte[] bytes)
    {
        var status = FrameCodec.TryRead(bytes, out var frame, out _, out var error);
        Assert.True(status == OperationStatus.Done, error);
        return frame!;
    }
}
