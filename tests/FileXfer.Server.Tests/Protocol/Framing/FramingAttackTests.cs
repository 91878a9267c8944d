using System.Buffers.Binary;
using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Tests.Protocol.Framing;

/// <summary>
/// Framing, case by case, against a live server: every length, size, count and offset a peer sends is checked
/// before use. A frame the server cannot trust gets an error code and the connection closes; the server goes on
/// serving others, and answers a hostile length at once instead of waiting for (or allocating) what it claims.
/// </summary>
public sealed class FramingAttackTests
{
    private static readonly byte[] Content = "0123456789"u8.ToArray();

    [Theory(Timeout = 30000)]
    [InlineData(0u)]
    [InlineData(5u)]
    [InlineData(ProtocolLimits.MaxFrameLength + 1u)]
    [InlineData(0x8000_0000u)]
    [InlineData(uint.MaxValue)]
    public async Task A_frame_length_below_the_fixed_part_or_over_the_limit_is_answered_at_once_and_closes(uint length)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        // Only the 4-byte prefix: the server must not wait for the bytes it claims (nor size a buffer from them).
        var prefix = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, length);
        await client.SendRawAsync(prefix, token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 0, token);
    }

    [Fact(Timeout = 30000)]
    public async Task A_field_whose_length_runs_past_the_end_of_the_frame_closes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendRawAsync(Raw(MessageType.Stat, 3, [(byte)FieldTag.Path, 0xFF, 0xFF, (byte)'a']), token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 0, token);
    }

    [Theory(Timeout = 30000)]
    [InlineData(new byte[] { 0x01 })]
    [InlineData(new byte[] { 0x01, 0x00 })]
    public async Task Trailing_bytes_after_the_fields_close(byte[] trailing)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendRawAsync(Raw(MessageType.Stat, 3, [.. FieldBytes(Field.String(FieldTag.Path, "x")), .. trailing]), token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 0, token);
    }

    [Fact(Timeout = 30000)]
    public async Task A_duplicate_field_closes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        // Two Paths: which one would a check look at, and which one would the file system get?
        await client.SendRawAsync(Raw(MessageType.Delete, 3, [.. FieldBytes(Field.String(FieldTag.Path, "ok.txt")), .. FieldBytes(Field.String(FieldTag.Path, "../x"))]), token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 0, token);
    }

    [Fact(Timeout = 30000)]
    public async Task Nonzero_frame_flags_close_before_the_frame_is_complete()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendRawAsync(RawFrames.Header(1000, (byte)MessageType.Stat, flags: 0x01).AsMemory(0, 6), token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 0, token);
    }

    [Theory(Timeout = 30000)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    [InlineData(ProtocolLimits.MaxBodySize + 1)]
    public async Task A_put_size_that_is_negative_or_over_2_to_the_62_closes(long size)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(new Frame(MessageType.Put, 6, Field.String(FieldTag.Path, "f"), Field.Integer(FieldTag.Size, size), Field.String(FieldTag.HashAlgorithm, HashAlgorithms.Sha256)), token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 6, token);
        Assert.False(File.Exists(server.PathOf("f")));
    }

    [Fact(Timeout = 30000)]
    public async Task A_put_size_over_the_servers_limit_is_refused_before_any_body()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, options: new() { MaxFileSize = 1000 });
        await using var client = await server.ConnectReadyAsync(token);

        FrameAssert.IsError(await client.StartPutAsync(1, "big", ProtocolLimits.MaxBodySize, token), ErrorCode.TooLarge, 1);

        // Still in step: nothing was owed.
        FrameAssert.Is(await client.PutAsync(2, "small", Content, token), MessageType.Ok, 2);
    }

    [Theory(Timeout = 30000)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public async Task A_get_offset_that_is_negative_closes(long offset)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllBytesAsync(server.PathOf("f"), Content, token);
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(new Frame(MessageType.Get, 8, Field.String(FieldTag.Path, "f"), Field.String(FieldTag.HashAlgorithm, HashAlgorithms.Sha256), Field.Integer(FieldTag.Offset, offset), Field.Bytes(FieldTag.HashValue, new byte[32])), token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 8, token);
    }

    [Theory(Timeout = 30000)]
    [InlineData(11L)]
    [InlineData(ProtocolLimits.MaxBodySize)]
    public async Task A_get_offset_beyond_the_file_sends_the_whole_file_from_zero(long offset)
    {
        // offset + (size - offset) must never be computed from a peer's offset past the end: the server ignores it.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllBytesAsync(server.PathOf("f"), Content, token);
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.Get(8, "f", HashAlgorithms.Sha256, offset, new byte[32]), token);
        var data = await client.ReadAsync(MessageType.Data, token);

        Assert.Null(data.GetSizeOrNull(FieldTag.Offset));
        Assert.Equal(Content.Length, data.GetSize(FieldTag.Size));
        Assert.Equal(Content, await client.ReadBodyAsync(Content.Length, token));
        Assert.Equal(SHA256.HashData(Content), (await client.ReadAsync(MessageType.BodyEnd, token)).GetBytes(FieldTag.HashValue));
    }

    [Theory(Timeout = 30000)]
    [InlineData(5L)]
    [InlineData(11L)]
    [InlineData(ProtocolLimits.MaxBodySize)]
    public async Task A_resume_offset_other_than_zero_or_the_held_bytes_closes(long offset)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.Put(4, "r", Content.Length, HashAlgorithms.Sha256, null, null, PutFlags.Resume, [1, 2, 3]), token);
        var ready = await client.ReadAsync(MessageType.Ready, token);
        Assert.Equal(0, ready.GetSize(FieldTag.Offset));
        await client.SendAsync(Messages.ResumeFrom(4, offset), token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 4, token);
        Assert.False(File.Exists(server.PathOf("r")));
    }

    [Fact(Timeout = 30000)]
    public async Task A_request_instead_of_the_resume_from_after_ready_closes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.Put(4, "r", Content.Length, HashAlgorithms.Sha256, null, null, PutFlags.Resume, [1, 2, 3]), token);
        await client.ReadAsync(MessageType.Ready, token);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 5, "/"), token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 4, token);
    }

    [Fact(Timeout = 30000)]
    public async Task A_chunk_longer_than_the_limit_closes_before_its_data()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.Put(2, "c", null, HashAlgorithms.Sha256, null, null, PutFlags.Chunked), token);
        await client.ReadAsync(MessageType.Ready, token);
        await client.SendRawAsync(new byte[] { 0xFF, 0xFF, 0xFF, 0xFE }, token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 2, token);
        Assert.False(File.Exists(server.PathOf("c")));
    }

    [Fact(Timeout = 30000)]
    public async Task Chunks_adding_up_past_the_declared_size_close()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.Put(2, "c", Content.Length, HashAlgorithms.Sha256, null, null, PutFlags.Chunked), token);
        await client.ReadAsync(MessageType.Ready, token);
        // 10 declared: a first chunk of 8, then one of 16 MiB that would pass the size.
        byte[] chunks = [0, 0, 0, 8, .. Content[..8], 0x01, 0x00, 0x00, 0x00];
        await client.SendRawAsync(chunks, token);

        var frames = await ReadUntilClosedAsync(client);
        Assert.Contains(frames, f => f.Type == MessageType.Error);
        Assert.NotEqual(MessageType.Ok, frames[^1].Type);
        Assert.False(File.Exists(server.PathOf("c")));
        await AssertServerAliveAsync(server, token);
    }

    [Theory(Timeout = 30000)]
    [InlineData((byte)0x00)]
    [InlineData((byte)0x03)]
    [InlineData((byte)0x1F)]
    [InlineData((byte)0x7E)]
    [InlineData((byte)0xFF)]
    public async Task An_unknown_message_type_closes(byte type)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(new Frame((MessageType)type, 12), token);

        await AssertClosedWithAsync(server, client, ErrorCode.UnknownMessage, 12, token);
    }

    [Theory(Timeout = 30000)]
    [InlineData(MessageType.Welcome)]
    [InlineData(MessageType.Ready)]
    [InlineData(MessageType.Ok)]
    [InlineData(MessageType.Data)]
    [InlineData(MessageType.Entry)]
    [InlineData(MessageType.EndOfList)]
    [InlineData(MessageType.Error)]
    public async Task A_server_message_sent_by_a_client_closes(MessageType type)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        // Data with a Size would announce a body: the server must not read one.
        await client.SendAsync(new Frame(type, 13, Field.Integer(FieldTag.Size, 1000), Field.Integer(FieldTag.Count, ProtocolLimits.MaxBodySize)), token);

        await AssertClosedWithAsync(server, client, ErrorCode.UnknownMessage, 13, token);
    }

    [Theory(Timeout = 30000)]
    [InlineData(MessageType.Hello)]
    [InlineData(MessageType.BodyEnd)]
    [InlineData(MessageType.ResumeFrom)]
    public async Task A_message_out_of_order_closes(MessageType type)
    {
        // A second Hello, a BodyEnd with no body, a ResumeFrom that follows no Ready.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);
        var frame = type switch
        {
            MessageType.Hello => Messages.Hello(ProtocolLimits.Version, Capabilities.None, "again"),
            MessageType.BodyEnd => Messages.BodyEnd(14, HashAlgorithms.Sha256, new byte[32]),
            _ => Messages.ResumeFrom(14, 0),
        };

        await client.SendAsync(frame, token);

        await AssertClosedWithAsync(server, client, ErrorCode.UnknownMessage, type == MessageType.Hello ? 0u : 14u, token);
    }

    [Fact(Timeout = 30000)]
    public async Task A_request_before_the_hello_closes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectAsync(token);

        await client.SendMagicAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 1, "/"), token);
        await client.ReadMagicAsync(token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 0, token);
    }

    [Theory(Timeout = 30000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Anything_but_the_puts_body_end_after_its_body_closes_and_stores_nothing(bool wrongId)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.StartPutAsync(3, "f", Content.Length, token);
        await client.SendRawAsync(Content, token);
        await client.SendAsync(wrongId ? Messages.BodyEnd(4, HashAlgorithms.Sha256, SHA256.HashData(Content)) : Messages.PathRequest(MessageType.Stat, 4, "/"), token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 3, token);
        Assert.False(File.Exists(server.PathOf("f")));
    }

    [Fact(Timeout = 30000)]
    public async Task A_body_longer_than_its_size_is_read_as_the_next_frame_and_closes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.StartPutAsync(3, "f", Content.Length, token);
        byte[] longer = [.. Content, .. "extra bytes"u8];
        await client.SendRawAsync(longer, token);
        await client.SendAsync(Messages.BodyEnd(3, HashAlgorithms.Sha256, SHA256.HashData(Content)), token);

        var frames = await ReadUntilClosedAsync(client);
        FrameAssert.IsError(Assert.Single(frames), ErrorCode.ProtocolViolation, frames[0].RequestId);
        Assert.False(File.Exists(server.PathOf("f")));
        await AssertServerAliveAsync(server, token);
    }

    [Fact(Timeout = 30000)]
    public async Task Unknown_put_flags_close_because_the_body_cannot_be_framed()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.Put(5, "f", 10, HashAlgorithms.Sha256, null, null, (PutFlags)0x80), token);

        await AssertClosedWithAsync(server, client, ErrorCode.ProtocolViolation, 5, token);
    }

    [Fact(Timeout = 30000)]
    public async Task Extreme_times_and_modes_are_clamped_or_ignored_not_fatal()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(new Frame(MessageType.MakeDirectory, 1, Field.String(FieldTag.Path, "d"), Field.Integer(FieldTag.MTime, long.MinValue), Field.Integer(FieldTag.Mode, -1)), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 1);
        await client.SendAsync(new Frame(MessageType.MakeDirectory, 2, Field.String(FieldTag.Path, "e"), Field.Integer(FieldTag.MTime, long.MaxValue), Field.Integer(FieldTag.Mode, long.MaxValue)), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 2);
    }

    private static async Task AssertClosedWithAsync(TestServer server, RawClient client, ErrorCode code, uint requestId, CancellationToken cancellationToken)
    {
        var frames = await ReadUntilClosedAsync(client);
        FrameAssert.IsError(Assert.Single(frames), code, requestId);
        await AssertServerAliveAsync(server, cancellationToken);
    }

    private static async Task<IReadOnlyList<Frame>> ReadUntilClosedAsync(RawClient client)
    {
        // Short: the answer and the close must come at once, not after a timeout of the server's.
        using var deadline = Deadline.After(TimeSpan.FromSeconds(5));
        return await client.ReadUntilClosedAsync(deadline.Token);
    }

    private static async Task AssertServerAliveAsync(TestServer server, CancellationToken cancellationToken)
    {
        await using var next = await server.ConnectReadyAsync(cancellationToken);
        FrameAssert.Is(await next.PutAsync(1, "alive.txt", Content, cancellationToken), MessageType.Ok, 1);
    }

    private static byte[] FieldBytes(Field field)
    {
        var bytes = new byte[ProtocolLimits.FieldHeaderBytes + field.Value.Length];
        bytes[0] = (byte)field.Tag;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(1), (ushort)field.Value.Length);
        field.Value.Span.CopyTo(bytes.AsSpan(3));
        return bytes;
    }

    /// <summary>A frame with any field bytes, which the codec would refuse to write.</summary>
    private static byte[] Raw(MessageType type, uint requestId, byte[] fieldArea) =>
        [.. RawFrames.Header((uint)(ProtocolLimits.FrameFixedBytes + fieldArea.Length), (byte)type, requestId: requestId), .. fieldArea];
}
