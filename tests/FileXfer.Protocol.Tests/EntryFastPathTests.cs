using System.Buffers;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Transfer;
using FsCheck.Xunit;

namespace FileXfer.Protocol.Tests;

/// <summary>
/// The listing's own paths (issue 13): an Entry encoded straight into a buffer and read straight from one must give
/// exactly what the general frame path gives, bytes and errors alike.
/// </summary>
public class EntryFastPathTests
{
    private static readonly DateTimeOffset Modified = new DateTimeOffset(2026, 11, 27, 8, 30, 15, TimeSpan.Zero).AddTicks(1234567);

    public static TheoryData<string, int, long, int?, byte> Entries => new()
    {
        { "a.txt", (int)EntryKind.File, 3, null, (byte)FieldTag.Name },
        { "数据", (int)EntryKind.Directory, 0, 0x1ED, (byte)FieldTag.Name },
        { "emoji-😀.bin", (int)EntryKind.File, ProtocolLimits.MaxBodySize, 0x1A4, (byte)FieldTag.Name },
        { "deep/er/path.txt", (int)EntryKind.Other, 0, 0, (byte)FieldTag.Path },
        { new string('n', ProtocolLimits.MaxNameBytes), (int)EntryKind.File, 1, 0xFFFF, (byte)FieldTag.Name },
    };

    [Theory]
    [MemberData(nameof(Entries))]
    public void WriteDescribe_writes_the_bytes_of_Describe(string name, int kind, long size, int? mode, byte nameTag)
    {
        var entry = new RemoteEntry(name, (EntryKind)kind, size, Modified, mode);
        var expected = FrameCodec.ToArray(Messages.Describe(MessageType.Entry, 77, entry, (FieldTag)nameTag));
        var buffer = new byte[Messages.MaxDescribeLength(entry) + 3];

        int written = Messages.WriteDescribe(buffer, MessageType.Entry, 77, entry, (FieldTag)nameTag);

        Assert.Equal(expected, buffer[..written]);
    }

    [Fact]
    public void WriteDescribe_matches_the_golden_entry()
    {
        var (_, golden) = GoldenFrames.Build()["Entry"];
        var entry = Messages.ReadEntry(Decode(golden));
        var buffer = new byte[Messages.MaxDescribeLength(entry)];

        int written = Messages.WriteDescribe(buffer, MessageType.Entry, 10, entry, FieldTag.Name);

        Assert.Equal(golden, buffer[..written]);
    }

    [Fact]
    public void WriteDescribe_refuses_a_name_over_the_limit_as_the_codec_does()
    {
        var entry = new RemoteEntry(new string('n', ProtocolLimits.MaxNameBytes + 1), EntryKind.File, 1, Modified, null);

        Assert.Throws<ArgumentException>(() => FrameCodec.ToArray(Messages.Describe(MessageType.Entry, 1, entry)));
        Assert.ThrowsAny<ArgumentException>(() => Messages.WriteDescribe(new byte[Messages.MaxDescribeLength(entry)], MessageType.Entry, 1, entry, FieldTag.Name));
    }

    [Fact]
    public void WriteDescribe_refuses_a_lone_surrogate_as_the_codec_does()
    {
        var entry = new RemoteEntry("bad\uD800", EntryKind.File, 1, Modified, null);

        Assert.ThrowsAny<ArgumentException>(() => Messages.Describe(MessageType.Entry, 1, entry));
        Assert.ThrowsAny<ArgumentException>(() => Messages.WriteDescribe(new byte[Messages.MaxDescribeLength(entry)], MessageType.Entry, 1, entry, FieldTag.Name));
    }

    [Fact]
    public void WriteDescribe_refuses_a_destination_too_small_for_the_worst_case()
    {
        var entry = new RemoteEntry("a", EntryKind.File, 1, Modified, null);

        Assert.Throws<ArgumentException>(() => Messages.WriteDescribe(new byte[Messages.MaxDescribeLength(entry) - 1], MessageType.Entry, 1, entry, FieldTag.Name));
    }

    [Theory]
    [MemberData(nameof(Entries))]
    public void ReadEntry_from_the_field_area_reads_what_the_frame_reader_reads(string name, int kind, long size, int? mode, byte nameTag)
    {
        var bytes = FrameCodec.ToArray(Messages.Describe(MessageType.Entry, 5, new RemoteEntry(name, (EntryKind)kind, size, Modified, mode), (FieldTag)nameTag));

        var direct = Messages.ReadEntry(FieldArea(bytes), MessageType.Entry, out bool namedByName);

        Assert.Equal(Messages.ReadEntry(Decode(bytes)), direct);
        Assert.Equal((FieldTag)nameTag == FieldTag.Name, namedByName);
    }

    public static TheoryData<byte[]> Malformed => new()
    {
        // No name or path.
        RawFrame.WithFields(0x23, 1, ((byte)FieldTag.Kind, RawFrame.Int64(1)), ((byte)FieldTag.Size, RawFrame.UInt64(1))),
        // No kind.
        RawFrame.WithFields(0x23, 1, ((byte)FieldTag.Name, "a"u8.ToArray()), ((byte)FieldTag.Size, RawFrame.UInt64(1))),
        // No size.
        RawFrame.WithFields(0x23, 1, ((byte)FieldTag.Name, "a"u8.ToArray()), ((byte)FieldTag.Kind, RawFrame.Int64(1))),
        // A size over the limit.
        RawFrame.WithFields(0x23, 1, ((byte)FieldTag.Name, "a"u8.ToArray()), ((byte)FieldTag.Kind, RawFrame.Int64(1)), ((byte)FieldTag.Size, RawFrame.UInt64(ulong.MaxValue))),
        // A field twice.
        RawFrame.WithFields(0x23, 1, ((byte)FieldTag.Name, "a"u8.ToArray()), ((byte)FieldTag.Name, "b"u8.ToArray()), ((byte)FieldTag.Kind, RawFrame.Int64(1)), ((byte)FieldTag.Size, RawFrame.UInt64(1))),
        // A short integer.
        RawFrame.WithFields(0x23, 1, ((byte)FieldTag.Name, "a"u8.ToArray()), ((byte)FieldTag.Kind, [1]), ((byte)FieldTag.Size, RawFrame.UInt64(1))),
        // Invalid UTF-8, a NUL.
        RawFrame.WithFields(0x23, 1, ((byte)FieldTag.Name, [0xC3, 0x28]), ((byte)FieldTag.Kind, RawFrame.Int64(1)), ((byte)FieldTag.Size, RawFrame.UInt64(1))),
        RawFrame.WithFields(0x23, 1, ((byte)FieldTag.Name, [0x61, 0x00]), ((byte)FieldTag.Kind, RawFrame.Int64(1)), ((byte)FieldTag.Size, RawFrame.UInt64(1))),
        // A field header cut short, and a value longer than the frame.
        RawFrame.FromFieldArea(0x23, 1, [(byte)FieldTag.Name, 0x00]),
        RawFrame.FromFieldArea(0x23, 1, [(byte)FieldTag.Name, 0x00, 0x09, 0x61]),
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void ReadEntry_from_the_field_area_refuses_what_the_frame_path_refuses_with_the_same_reason(byte[] bytes)
    {
        var general = Assert.ThrowsAny<FileXferException>(() =>
        {
            var status = FrameCodec.TryRead(bytes, out var frame, out _, out var error);
            if (status != OperationStatus.Done)
            {
                throw new ProtocolViolationException(error!);
            }

            Messages.ReadEntry(frame!);
        });

        var direct = Assert.Throws<ProtocolViolationException>(() => Messages.ReadEntry(FieldArea(bytes), MessageType.Entry, out _));

        Assert.IsType<ProtocolViolationException>(general);
        Assert.Equal(general.Message, direct.Message);
    }

    [Fact]
    public void ReadEntry_from_the_field_area_skips_unknown_tags_and_keeps_odd_kinds_and_modes_as_the_frame_path()
    {
        var bytes = RawFrame.WithFields(0x23, 1,
            (0x7F, [1, 2, 3]),
            ((byte)FieldTag.Name, "a"u8.ToArray()),
            ((byte)FieldTag.Kind, RawFrame.Int64(99)),
            ((byte)FieldTag.Size, RawFrame.UInt64(4)),
            ((byte)FieldTag.Mode, RawFrame.Int64(0x10000)),
            (0xEE, []));

        var direct = Messages.ReadEntry(FieldArea(bytes), MessageType.Entry, out _);

        Assert.Equal(Messages.ReadEntry(Decode(bytes)), direct);
        Assert.Equal(EntryKind.Other, direct.Kind);
        Assert.Null(direct.Mode);
        Assert.Equal(DateTimeOffset.UnixEpoch, direct.ModifiedUtc);
    }

    [Property(Arbitrary = [typeof(FrameArbitraries)], MaxTest = 300)]
    public void The_field_reader_accepts_and_refuses_what_the_codec_does(FrameShapedBytes input)
    {
        var bytes = input.Bytes;
        var status = FrameCodec.TryRead(bytes, out _, out _, out var error);
        var header = FrameCodec.TryReadHeader(bytes, out _, out _, out int consumed, out var headerError);
        if (header != OperationStatus.Done)
        {
            Assert.Equal(status, header);
            Assert.Equal(error, headerError);
            return;
        }

        var reader = new FieldReader(bytes.AsSpan(FrameCodec.FieldsStart, consumed - FrameCodec.FieldsStart));
        while (reader.MoveNext())
        {
        }

        Assert.Equal(status == OperationStatus.Done, reader.Error is null);
        Assert.Equal(error, reader.Error);
    }

    [Fact]
    public async Task The_reader_gives_entries_without_frames_and_other_frames_as_frames_even_a_byte_at_a_time()
    {
        var first = new RemoteEntry("a", EntryKind.File, 1, Modified, 0x1A4);
        var second = new RemoteEntry("b", EntryKind.Directory, 0, Modified, null);
        byte[] stream =
        [
            .. FrameCodec.ToArray(Messages.Describe(MessageType.Entry, 3, first)),
            .. FrameCodec.ToArray(Messages.Describe(MessageType.Entry, 3, second)),
            .. FrameCodec.ToArray(Messages.EndOfList(3, 2)),
        ];
        using var reader = new ProtocolReader(new TrickleStream(stream, maxChunk: 1), initialBufferSize: 16);

        var one = await reader.ReadFrameOrEntryAsync(CancellationToken.None);
        var two = await reader.ReadFrameOrEntryAsync(CancellationToken.None);
        var end = await reader.ReadFrameOrEntryAsync(CancellationToken.None);

        Assert.Equal((first, true, 3u, MessageType.Entry), (one.Entry, one.NamedByName, one.RequestId, one.Type));
        Assert.Equal((second, 3u), (two.Entry, two.RequestId));
        Assert.Null(end.Entry);
        Assert.Equal((MessageType.EndOfList, 3u, 2L), (end.Type, end.RequestId, end.Frame!.GetSize(FieldTag.Count)));
        await Assert.ThrowsAsync<ConnectionLostException>(async () => await reader.ReadFrameOrEntryAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_reader_reports_a_connection_closed_inside_an_entry()
    {
        var bytes = FrameCodec.ToArray(Messages.Describe(MessageType.Entry, 3, new RemoteEntry("a", EntryKind.File, 1, Modified, null)));
        using var reader = new ProtocolReader(new MemoryStream(bytes[..^2]));

        var error = await Assert.ThrowsAsync<ConnectionLostException>(async () => await reader.ReadFrameOrEntryAsync(CancellationToken.None));

        Assert.Contains("inside a frame", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_writer_sends_the_bytes_Describe_would()
    {
        var entries = Enumerable.Range(0, 3000).Select(i => new RemoteEntry($"file-{i}", EntryKind.File, i, Modified, i % 2 == 0 ? 0x1A4 : null)).ToList();
        using var expected = new MemoryStream();
        using var actual = new MemoryStream();
        using (var general = new FrameWriter(expected))
        using (var direct = new FrameWriter(actual))
        {
            foreach (var entry in entries)
            {
                await general.WriteAsync(Messages.Describe(MessageType.Entry, 9, entry), CancellationToken.None);
                await direct.WriteDescribeAsync(MessageType.Entry, 9, entry, FieldTag.Name, CancellationToken.None);
            }

            await general.FlushAsync(CancellationToken.None);
            await direct.FlushAsync(CancellationToken.None);
        }

        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    private static Frame Decode(byte[] bytes)
    {
        Assert.Equal(OperationStatus.Done, FrameCodec.TryRead(bytes, out var frame, out _, out var error));
        Assert.Null(error);
        return frame!;
    }

    private static byte[] FieldArea(byte[] bytes) => bytes[FrameCodec.FieldsStart..];
}
