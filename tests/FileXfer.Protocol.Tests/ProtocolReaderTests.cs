using System.Security.Cryptography;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Protocol.Tests;

/// <summary>The read side of a connection over streams that split, end early or send garbage.</summary>
public class ProtocolReaderTests
{
    private static readonly byte[] Abc = "abc"u8.ToArray();

    [Theory(Timeout = 10000)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(int.MaxValue)]
    public async Task Decodes_a_whole_conversation_whatever_the_read_sizes(int chunk)
    {
        byte[] wire = [.. "FXFR"u8, .. GoldenFrames.Hello, .. GoldenFrames.PutMinimal, .. Abc, .. GoldenFrames.BodyEnd, .. GoldenFrames.Get, .. GoldenFrames.List];
        var stream = new TrickleStream(wire, chunk);
        using var reader = new ProtocolReader(stream);
        var token = TestContext.Current.CancellationToken;

        await reader.ReadMagicAsync(token);
        var hello = await reader.ReadRequiredFrameAsync(token);
        var put = await reader.ReadRequiredFrameAsync(token);
        using var body = new MemoryStream();
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);
        await reader.CopyBodyToAsync(body, put.GetSize(FieldTag.Size), hasher, progress: null, token);
        var bodyEnd = await reader.ReadRequiredFrameAsync(token);
        var get = await reader.ReadRequiredFrameAsync(token);
        var list = await reader.ReadRequiredFrameAsync(token);
        var end = await reader.ReadFrameAsync(token);

        Assert.Equal(MessageType.Hello, hello.Type);
        Assert.Equal(MessageType.Put, put.Type);
        Assert.Equal(Abc, body.ToArray());
        Assert.Equal(SHA256.HashData(Abc), hasher.GetHashAndReset());
        Assert.Equal(MessageType.BodyEnd, bodyEnd.Type);
        Assert.Equal(GoldenFrames.AbcSha256, bodyEnd.GetBytes(FieldTag.HashValue));
        Assert.Equal(MessageType.Get, get.Type);
        Assert.Equal(MessageType.List, list.Type);
        Assert.Null(end);
        Assert.Equal(wire.Length, stream.BytesRead);
    }

    [Fact(Timeout = 10000)]
    public async Task One_byte_reads_need_one_read_per_byte_and_no_more()
    {
        var stream = new TrickleStream(GoldenFrames.Ready);
        using var reader = new ProtocolReader(stream);

        var frame = await reader.ReadRequiredFrameAsync(TestContext.Current.CancellationToken);

        Assert.Equal(MessageType.Ready, frame.Type);
        Assert.Equal(GoldenFrames.Ready.Length, stream.ReadCalls);
    }

    [Fact(Timeout = 10000)]
    public async Task A_clean_end_of_stream_between_frames_gives_null()
    {
        using var reader = new ProtocolReader(new TrickleStream([.. GoldenFrames.Ok, .. GoldenFrames.Ok], 4));
        var token = TestContext.Current.CancellationToken;

        Assert.NotNull(await reader.ReadFrameAsync(token));
        Assert.NotNull(await reader.ReadFrameAsync(token));
        Assert.Null(await reader.ReadFrameAsync(token));
        Assert.Null(await reader.ReadFrameAsync(token));
    }

    [Fact(Timeout = 10000)]
    public async Task An_empty_stream_gives_null_and_a_required_frame_fails()
    {
        using var reader = new ProtocolReader(new MemoryStream());
        var token = TestContext.Current.CancellationToken;

        Assert.Null(await reader.ReadFrameAsync(token));
        await Assert.ThrowsAsync<ConnectionLostException>(async () => await reader.ReadRequiredFrameAsync(token));
    }

    [Theory(Timeout = 10000)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(9)]
    [InlineData(20)]
    public async Task End_of_stream_inside_a_frame_is_a_lost_connection(int length)
    {
        var bytes = GoldenFrames.Get[..length];
        using var reader = new ProtocolReader(new TrickleStream(bytes));

        var exception = await Assert.ThrowsAsync<ConnectionLostException>(async () => await reader.ReadFrameAsync(TestContext.Current.CancellationToken));

        Assert.Contains($"{length} bytes", exception.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 10000)]
    public async Task End_of_stream_inside_the_second_frame_is_a_lost_connection()
    {
        using var reader = new ProtocolReader(new TrickleStream([.. GoldenFrames.Ok, .. GoldenFrames.Get[..12]], 5));
        var token = TestContext.Current.CancellationToken;

        Assert.NotNull(await reader.ReadFrameAsync(token));
        await Assert.ThrowsAsync<ConnectionLostException>(async () => await reader.ReadFrameAsync(token));
    }

    [Theory(Timeout = 10000)]
    [InlineData(new byte[] { 0x00, 0x01, 0x00, 0x01 })]
    [InlineData(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x05 })]
    public async Task A_bad_length_fails_after_the_four_prefix_bytes_without_reading_on(byte[] prefix)
    {
        // A hostile peer would follow the prefix with as many bytes as it liked.
        var stream = new TrickleStream([.. prefix, .. new byte[70_000]]);
        using var reader = new ProtocolReader(stream);

        var exception = await Assert.ThrowsAsync<ProtocolViolationException>(async () => await reader.ReadFrameAsync(TestContext.Current.CancellationToken));

        Assert.Equal(ErrorCode.ProtocolViolation, exception.Code);
        Assert.Equal(4, stream.BytesRead);
    }

    [Fact(Timeout = 10000)]
    public async Task Nonzero_flags_fail_after_the_sixth_byte()
    {
        var bytes = (byte[])GoldenFrames.Put.Clone();
        bytes[5] = 0x01;
        var stream = new TrickleStream(bytes);
        using var reader = new ProtocolReader(stream);

        await Assert.ThrowsAsync<ProtocolViolationException>(async () => await reader.ReadFrameAsync(TestContext.Current.CancellationToken));

        Assert.Equal(6, stream.BytesRead);
    }

    [Fact(Timeout = 10000)]
    public async Task An_invalid_frame_is_a_protocol_violation_with_the_codec_reason()
    {
        var bytes = RawFrame.WithFields((byte)MessageType.Put, 1, ((byte)FieldTag.Path, "a\0"u8.ToArray()));
        using var reader = new ProtocolReader(new MemoryStream(bytes));

        var exception = await Assert.ThrowsAsync<ProtocolViolationException>(async () => await reader.ReadFrameAsync(TestContext.Current.CancellationToken));

        Assert.Contains("NUL", exception.Message, StringComparison.Ordinal);
    }

    [Theory(Timeout = 10000)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(100)]
    public async Task The_magic_is_read_and_checked(int chunk)
    {
        var stream = new TrickleStream([.. "FXFR"u8, .. GoldenFrames.Hello], chunk);
        using var reader = new ProtocolReader(stream);
        var token = TestContext.Current.CancellationToken;

        await reader.ReadMagicAsync(token);
        var hello = await reader.ReadRequiredFrameAsync(token);

        Assert.Equal(MessageType.Hello, hello.Type);
    }

    [Theory(Timeout = 10000)]
    [InlineData("FXFQ")]
    [InlineData("fxfr")]
    [InlineData("GET ")]
    [InlineData("\0\0\0\u0033")]
    public async Task A_wrong_magic_is_a_protocol_violation(string magic)
    {
        byte[] bytes = [.. System.Text.Encoding.ASCII.GetBytes(magic), .. GoldenFrames.Hello];
        using var reader = new ProtocolReader(new TrickleStream(bytes));

        await Assert.ThrowsAsync<ProtocolViolationException>(async () => await reader.ReadMagicAsync(TestContext.Current.CancellationToken));
    }

    [Theory(Timeout = 10000)]
    [InlineData(0)]
    [InlineData(3)]
    public async Task End_of_stream_inside_the_magic_is_a_lost_connection(int length)
    {
        using var reader = new ProtocolReader(new TrickleStream("FXFR"u8[..length].ToArray()));

        await Assert.ThrowsAsync<ConnectionLostException>(async () => await reader.ReadMagicAsync(TestContext.Current.CancellationToken));
    }

    [Theory(Timeout = 10000)]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(4096, 1000)]
    [InlineData(70_000, int.MaxValue)]
    [InlineData(300_000, int.MaxValue)]
    [InlineData(300_000, 4099)]
    public async Task Body_copy_hashes_exactly_the_body_bytes(int size, int chunk)
    {
        var body = RandomBytes(size, seed: size);
        byte[] wire = [.. GoldenFrames.PutMinimal, .. body, .. GoldenFrames.BodyEnd];
        using var reader = new ProtocolReader(new TrickleStream(wire, chunk));
        var token = TestContext.Current.CancellationToken;
        using var destination = new MemoryStream();
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);
        long progressed = 0;

        await reader.ReadRequiredFrameAsync(token);
        await reader.CopyBodyToAsync(destination, size, hasher, n => progressed += n, token);
        var next = await reader.ReadRequiredFrameAsync(token);

        Assert.Equal(body, destination.ToArray());
        Assert.Equal(SHA256.HashData(body), hasher.GetHashAndReset());
        Assert.Equal(size, progressed);
        Assert.Equal(MessageType.BodyEnd, next.Type);
        Assert.Null(await reader.ReadFrameAsync(token));
    }

    [Fact(Timeout = 10000)]
    public async Task Body_bytes_read_ahead_with_the_frame_are_used_first()
    {
        // One read hands the reader the frame, the whole body and the next frame together.
        var body = RandomBytes(5000, seed: 1);
        byte[] wire = [.. GoldenFrames.PutMinimal, .. body, .. GoldenFrames.BodyEnd];
        var stream = new TrickleStream(wire, int.MaxValue);
        using var reader = new ProtocolReader(stream);
        var token = TestContext.Current.CancellationToken;
        using var destination = new MemoryStream();
        using var hasher = HashAlgorithms.Create(HashAlgorithms.Sha256);

        await reader.ReadRequiredFrameAsync(token);
        Assert.Equal(wire.Length, stream.BytesRead);
        await reader.CopyBodyToAsync(destination, body.Length, hasher, progress: null, token);
        var next = await reader.ReadRequiredFrameAsync(token);

        Assert.Equal(body, destination.ToArray());
        Assert.Equal(SHA256.HashData(body), hasher.GetHashAndReset());
        Assert.Equal(MessageType.BodyEnd, next.Type);
        Assert.Equal(1, stream.ReadCalls);
    }

    [Fact(Timeout = 10000)]
    public async Task Body_partly_buffered_and_partly_read_hashes_like_the_whole()
    {
        // The first read takes the frame and the start of the body; the rest comes in later reads.
        var body = RandomBytes(200_000, seed: 2);
        byte[] wire = [.. GoldenFrames.PutMinimal, .. body];
        var stream = new TrickleStream(wire, GoldenFrames.PutMinimal.Length + 777);
        using var reader = new ProtocolReader(stream);
        var token = TestContext.Current.CancellationToken;
        using var destination = new MemoryStream();
        using var hasher = HashAlgorithms.Create(HashAlgorithms.XxHash128);

        await reader.ReadRequiredFrameAsync(token);
        Assert.Equal(GoldenFrames.PutMinimal.Length + 777, stream.BytesRead);
        await reader.CopyBodyToAsync(destination, body.Length, hasher, progress: null, token);

        Assert.Equal(body, destination.ToArray());
        Assert.Equal(System.IO.Hashing.XxHash128.Hash(body), hasher.GetHashAndReset());
        Assert.Equal(wire.Length, stream.BytesRead);
    }

    [Theory(Timeout = 10000)]
    [InlineData(1, 10, 0)]
    [InlineData(1, 10, 9)]
    [InlineData(int.MaxValue, 10, 5)]
    [InlineData(int.MaxValue, 200_000, 199_999)]
    public async Task End_of_stream_inside_a_body_is_a_lost_connection(int chunk, int declared, int sent)
    {
        byte[] wire = [.. GoldenFrames.PutMinimal, .. RandomBytes(sent, seed: 3)];
        using var reader = new ProtocolReader(new TrickleStream(wire, chunk));
        var token = TestContext.Current.CancellationToken;
        await reader.ReadRequiredFrameAsync(token);

        var exception = await Assert.ThrowsAsync<ConnectionLostException>(
            async () => await reader.CopyBodyToAsync(Stream.Null, declared, hasher: null, progress: null, token));

        Assert.IsType<EndOfStreamException>(exception.InnerException);
    }

    [Fact(Timeout = 10000)]
    public async Task A_discarded_body_keeps_the_reader_in_step()
    {
        var body = RandomBytes(100_000, seed: 4);
        byte[] wire = [.. GoldenFrames.PutMinimal, .. body, .. GoldenFrames.BodyEnd, .. GoldenFrames.Delete];
        using var reader = new ProtocolReader(new TrickleStream(wire, 4096));
        var token = TestContext.Current.CancellationToken;

        await reader.ReadRequiredFrameAsync(token);
        await reader.DiscardBodyAsync(body.Length, token);

        Assert.Equal(MessageType.BodyEnd, (await reader.ReadRequiredFrameAsync(token)).Type);
        Assert.Equal(MessageType.Delete, (await reader.ReadRequiredFrameAsync(token)).Type);
        Assert.Null(await reader.ReadFrameAsync(token));
    }

    [Fact(Timeout = 10000)]
    public async Task A_negative_body_length_is_refused()
    {
        using var reader = new ProtocolReader(new MemoryStream());

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            async () => await reader.CopyBodyToAsync(Stream.Null, -1, hasher: null, progress: null, TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = 10000)]
    public async Task Frames_up_to_the_maximum_length_are_read_after_a_small_one()
    {
        // A full-size frame behind another one must still fit the reader's buffer once the first is consumed.
        var big = RawFrame.WithFields(0x21, 2, (0x7F, new byte[ProtocolLimits.MaxFrameLength - 9]));
        using var reader = new ProtocolReader(new TrickleStream([.. GoldenFrames.Ok, .. big, .. big], 50_000));
        var token = TestContext.Current.CancellationToken;

        Assert.Equal(11u, (await reader.ReadRequiredFrameAsync(token)).RequestId);
        Assert.Equal(2u, (await reader.ReadRequiredFrameAsync(token)).RequestId);
        Assert.Equal(2u, (await reader.ReadRequiredFrameAsync(token)).RequestId);
        Assert.Null(await reader.ReadFrameAsync(token));
    }

    [Theory(Timeout = 10000)]
    [InlineData(1)]
    [InlineData(4093)]
    [InlineData(50_000)]
    [InlineData(int.MaxValue)]
    public async Task A_reader_that_starts_small_grows_for_the_largest_frames_whatever_the_read_sizes(int chunk)
    {
        // The server starts each connection with a small buffer: frames larger than it, and frames that straddle
        // its end, must still arrive whole.
        var big = RawFrame.WithFields(0x21, 2, (0x7F, new byte[ProtocolLimits.MaxFrameLength - 9]));
        var medium = RawFrame.WithFields(0x21, 3, (0x7F, new byte[5000]));
        byte[] wire = [.. "FXFR"u8, .. GoldenFrames.Hello, .. medium, .. big, .. GoldenFrames.Ok, .. big];
        var stream = new TrickleStream(wire, chunk);
        using var reader = new ProtocolReader(stream, initialBufferSize: 4096);
        var token = TestContext.Current.CancellationToken;

        await reader.ReadMagicAsync(token);
        Assert.Equal(MessageType.Hello, (await reader.ReadRequiredFrameAsync(token)).Type);
        Assert.Equal(3u, (await reader.ReadRequiredFrameAsync(token)).RequestId);
        Assert.Equal(2u, (await reader.ReadRequiredFrameAsync(token)).RequestId);
        Assert.Equal(11u, (await reader.ReadRequiredFrameAsync(token)).RequestId);
        Assert.Equal(2u, (await reader.ReadRequiredFrameAsync(token)).RequestId);
        Assert.Null(await reader.ReadFrameAsync(token));
        Assert.Equal(wire.Length, stream.BytesRead);
    }

    [Fact]
    public void A_null_stream_is_refused()
    {
        Assert.Throws<ArgumentNullException>(() => new ProtocolReader(null!));
    }

    internal static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
