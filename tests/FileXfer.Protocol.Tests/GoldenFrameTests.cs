using System.Buffers;
using FileXfer.Protocol.Framing;

namespace FileXfer.Protocol.Tests;

/// <summary>Each message type against its golden bytes, in both directions.</summary>
public class GoldenFrameTests
{
    public static TheoryData<string> Names => [.. GoldenFrames.Names];

    [Theory]
    [MemberData(nameof(Names))]
    public void Encode_produces_the_golden_bytes(string name)
    {
        var (frame, expected) = GoldenFrames.Build()[name];

        Assert.Equal(expected.Length, FrameCodec.GetEncodedLength(frame));
        Assert.Equal(expected, FrameCodec.ToArray(frame));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Encode_to_a_span_and_to_a_buffer_writer_agree(string name)
    {
        var (frame, expected) = GoldenFrames.Build()[name];

        var span = new byte[expected.Length + 5];
        int written = FrameCodec.Write(frame, span);
        var writer = new ArrayBufferWriter<byte>();
        FrameCodec.Write(frame, writer);

        Assert.Equal(expected.Length, written);
        Assert.Equal(expected, span[..written]);
        Assert.Equal(expected, writer.WrittenSpan.ToArray());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Decode_of_the_golden_bytes_gives_back_the_built_frame(string name)
    {
        var (built, bytes) = GoldenFrames.Build()[name];

        var decoded = DecodeWhole(bytes);

        Assert.Equal(built.Type, decoded.Type);
        Assert.Equal(built.RequestId, decoded.RequestId);
        Assert.Equal(built.Fields.Select(f => f.Tag), decoded.Fields.Select(f => f.Tag));
        for (int i = 0; i < built.Fields.Count; i++)
        {
            Assert.Equal(built.Fields[i].Value.ToArray(), decoded.Fields[i].Value.ToArray());
        }

        Assert.Equal(bytes, FrameCodec.ToArray(decoded));
    }

    [Fact]
    public void Encode_rejects_a_destination_that_is_too_small()
    {
        var frame = Messages.Ready(1, 0);

        Assert.Throws<ArgumentException>(() => FrameCodec.Write(frame, new byte[FrameCodec.GetEncodedLength(frame) - 1]));
    }

    [Fact]
    public void Encode_rejects_a_field_over_its_limit()
    {
        var frame = new Frame(MessageType.Put, 1, Field.String(FieldTag.HashAlgorithm, new string('a', ProtocolLimits.MaxAlgorithmNameBytes + 1)));

        Assert.Throws<ArgumentException>(() => FrameCodec.ToArray(frame));
    }

    [Fact]
    public void Encode_rejects_a_frame_over_the_frame_limit()
    {
        // Two unknown-tag fields of 40 000 bytes each: every field fits its u16 length, the frame does not fit 64 KiB.
        var big = new byte[40_000];
        var frame = new Frame(MessageType.Ok, 1, Field.Bytes((FieldTag)0x70, big), Field.Bytes((FieldTag)0x71, big));

        Assert.Throws<ArgumentException>(() => FrameCodec.ToArray(frame));
    }

    [Fact]
    public void Decode_Hello()
    {
        var frame = DecodeWhole(GoldenFrames.Hello);

        Assert.Equal(MessageType.Hello, frame.Type);
        Assert.Equal(0u, frame.RequestId);
        Assert.Equal(1, frame.GetInt64OrNull(FieldTag.Version));
        Assert.Equal((ulong)(Capabilities.Resume | Capabilities.ParallelStreams), frame.GetUInt64OrNull(FieldTag.Capabilities));
        Assert.Equal("fx/1", frame.GetString(FieldTag.Agent));
        Assert.Equal("sha256,xxh128,blake3", frame.GetString(FieldTag.HashAlgorithms));
    }

    [Fact]
    public void Decode_Welcome()
    {
        var frame = DecodeWhole(GoldenFrames.Welcome);

        Assert.Equal(MessageType.Welcome, frame.Type);
        Assert.Equal(1, frame.GetInt64OrNull(FieldTag.Version));
        Assert.Equal(0ul, frame.GetUInt64OrNull(FieldTag.Capabilities));
        Assert.Equal("fxd/1", frame.GetString(FieldTag.Agent));
        Assert.Equal("sha256,xxh128,blake3", frame.GetString(FieldTag.HashAlgorithms));
        Assert.Equal(1L << 40, frame.GetSize(FieldTag.MaxFileSize));
    }

    [Fact]
    public void Decode_Put()
    {
        var frame = DecodeWhole(GoldenFrames.Put);

        Assert.Equal(MessageType.Put, frame.Type);
        Assert.Equal(7u, frame.RequestId);
        Assert.Equal("docs/a.txt", frame.GetString(FieldTag.Path));
        Assert.Equal(3, frame.GetSize(FieldTag.Size));
        Assert.Equal("sha256", frame.GetString(FieldTag.HashAlgorithm));
        Assert.Equal(GoldenFrames.Modified, UnixTime.FromNanoseconds(frame.GetInt64OrNull(FieldTag.MTime)!.Value));
        Assert.Equal(0x1A4, frame.GetInt64OrNull(FieldTag.Mode));
    }

    [Fact]
    public void Decode_Put_without_optional_fields()
    {
        var frame = DecodeWhole(GoldenFrames.PutMinimal);

        Assert.Equal(MessageType.Put, frame.Type);
        Assert.Equal(1u, frame.RequestId);
        Assert.Equal("a.txt", frame.GetString(FieldTag.Path));
        Assert.Equal(3, frame.GetSize(FieldTag.Size));
        Assert.Equal("sha256", frame.GetString(FieldTag.HashAlgorithm));
        Assert.False(frame.Has(FieldTag.MTime));
        Assert.False(frame.Has(FieldTag.Mode));
        Assert.Null(frame.GetInt64OrNull(FieldTag.Mode));
    }

    [Fact]
    public void Decode_Get()
    {
        var frame = DecodeWhole(GoldenFrames.Get);

        Assert.Equal(MessageType.Get, frame.Type);
        Assert.Equal(8u, frame.RequestId);
        Assert.Equal("docs/a.txt", frame.GetString(FieldTag.Path));
        Assert.Equal("xxh128", frame.GetString(FieldTag.HashAlgorithm));
    }

    [Theory]
    [InlineData(nameof(GoldenFrames.Stat), MessageType.Stat, 9u, "数据")]
    [InlineData(nameof(GoldenFrames.List), MessageType.List, 10u, "")]
    [InlineData(nameof(GoldenFrames.Delete), MessageType.Delete, 11u, "old.bin")]
    public void Decode_path_requests(string name, MessageType type, uint requestId, string path)
    {
        var frame = DecodeWhole(GoldenFrames.Build()[name].Bytes);

        Assert.Equal(type, frame.Type);
        Assert.Equal(requestId, frame.RequestId);
        Assert.Equal(path, frame.GetString(FieldTag.Path));
        Assert.Single(frame.Fields);
    }

    [Fact]
    public void Decode_Hash()
    {
        var frame = DecodeWhole(GoldenFrames.Hash);

        Assert.Equal(MessageType.Hash, frame.Type);
        Assert.Equal(12u, frame.RequestId);
        Assert.Equal("docs/a.txt", frame.GetString(FieldTag.Path));
        Assert.Equal("sha256", frame.GetString(FieldTag.HashAlgorithm));
    }

    [Fact]
    public void Decode_Ready()
    {
        var frame = DecodeWhole(GoldenFrames.Ready);

        Assert.Equal(MessageType.Ready, frame.Type);
        Assert.Equal(7u, frame.RequestId);
        Assert.Equal(0, frame.GetSize(FieldTag.Offset));
    }

    [Fact]
    public void Decode_Ok_without_fields()
    {
        var frame = DecodeWhole(GoldenFrames.Ok);

        Assert.Equal(MessageType.Ok, frame.Type);
        Assert.Equal(11u, frame.RequestId);
        Assert.Empty(frame.Fields);
    }

    [Fact]
    public void Decode_HashOk()
    {
        var frame = DecodeWhole(GoldenFrames.HashOk);

        Assert.Equal(MessageType.Ok, frame.Type);
        Assert.Equal(7u, frame.RequestId);
        Assert.Equal("docs/a.txt", frame.GetString(FieldTag.Path));
        Assert.Equal(3, frame.GetSize(FieldTag.Size));
        Assert.Equal("sha256", frame.GetString(FieldTag.HashAlgorithm));
        Assert.Equal(GoldenFrames.AbcSha256, frame.GetBytes(FieldTag.HashValue));
    }

    [Fact]
    public void Decode_Data()
    {
        var frame = DecodeWhole(GoldenFrames.Data);

        Assert.Equal(MessageType.Data, frame.Type);
        Assert.Equal(8u, frame.RequestId);
        Assert.Equal(3, frame.GetSize(FieldTag.Size));
        Assert.Equal("xxh128", frame.GetString(FieldTag.HashAlgorithm));
        Assert.Equal(1_700_000_000_000_000_000, frame.GetInt64OrNull(FieldTag.MTime));
        Assert.False(frame.Has(FieldTag.Mode));
    }

    [Fact]
    public void Decode_stat_answer()
    {
        var frame = DecodeWhole(GoldenFrames.StatOk);

        Assert.Equal(MessageType.Ok, frame.Type);
        Assert.Equal(9u, frame.RequestId);
        Assert.False(frame.Has(FieldTag.Name));
        Assert.Equal(new RemoteEntry("数据", EntryKind.Directory, 0, GoldenFrames.Modified, 0x1ED), Messages.ReadEntry(frame));
    }

    [Fact]
    public void Decode_Entry()
    {
        var frame = DecodeWhole(GoldenFrames.Entry);

        Assert.Equal(MessageType.Entry, frame.Type);
        Assert.Equal(10u, frame.RequestId);
        Assert.False(frame.Has(FieldTag.Path));
        Assert.Equal(new RemoteEntry("a.txt", EntryKind.File, 3, GoldenFrames.Modified, null), Messages.ReadEntry(frame));
    }

    [Fact]
    public void Decode_EndOfList()
    {
        var frame = DecodeWhole(GoldenFrames.EndOfList);

        Assert.Equal(MessageType.EndOfList, frame.Type);
        Assert.Equal(10u, frame.RequestId);
        Assert.Equal(1, frame.GetSize(FieldTag.Count));
    }

    [Theory]
    [InlineData(nameof(GoldenFrames.BodyEnd), 7u, "sha256")]
    [InlineData(nameof(GoldenFrames.BodyEndXxh128), 8u, "xxh128")]
    public void Decode_BodyEnd(string name, uint requestId, string algorithm)
    {
        var frame = DecodeWhole(GoldenFrames.Build()[name].Bytes);

        Assert.Equal(MessageType.BodyEnd, frame.Type);
        Assert.Equal(requestId, frame.RequestId);
        Assert.Equal(algorithm, frame.GetString(FieldTag.HashAlgorithm));
        Assert.Equal(algorithm == "sha256" ? GoldenFrames.AbcSha256 : GoldenFrames.AbcXxHash128, frame.GetBytes(FieldTag.HashValue));
    }

    [Fact]
    public void Decode_Error()
    {
        var frame = DecodeWhole(GoldenFrames.Error);

        Assert.Equal(MessageType.Error, frame.Type);
        Assert.Equal(12u, frame.RequestId);
        Assert.Equal((long)ErrorCode.NotFound, frame.GetInt64OrNull(FieldTag.ErrorCode));
        Assert.Equal("no such file", frame.GetString(FieldTag.Message));

        var exception = Messages.ToException(frame);
        Assert.Equal(ErrorCode.NotFound, exception.Code);
        Assert.Equal("no such file", exception.Message);
        Assert.True(exception.IsRemote);
    }

    private static Frame DecodeWhole(byte[] bytes)
    {
        var status = FrameCodec.TryRead(bytes, out var frame, out int consumed, out var error);

        Assert.Equal(OperationStatus.Done, status);
        Assert.Null(error);
        Assert.Equal(bytes.Length, consumed);
        return Assert.IsType<Frame>(frame);
    }
}
