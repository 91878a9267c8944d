using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Handlers;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>
/// Ranged Puts with NoWait (EagerRanges) over a real connection: the range's bytes follow the Put at once and several
/// ranges go back to back before any answer; a refused one has its bytes read past so the connection stays in step;
/// one whose hash does not match counts for nothing and the file is named only from ranges that checked out.
/// </summary>
public sealed class EagerRangeTests
{
    private const int Size = 3 * 1024 * 1024 + 5;
    private static readonly byte[] TransferId = [9, 8, 7, 6];

    [Fact(Timeout = 30000)]
    public async Task Eager_ranges_go_back_to_back_without_ready_and_assemble_into_the_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectAsync(token);
        var welcome = await client.HelloAsync(Messages.Hello(ProtocolLimits.Version, Messages.Implemented, RawClient.Agent), token);
        var content = RandomNumberGenerator.GetBytes(Size);
        var first = new FileRange(0, Size / 3);
        var second = new FileRange(first.End, Size - first.End);

        // Both ranges, bytes and all, before reading anything: no Ready may come between them.
        await SendEagerAsync(client, 1, "e.bin", content, first, SHA256.HashData(content.AsSpan(Bytes(first))), token);
        await SendEagerAsync(client, 2, "e.bin", content, second, SHA256.HashData(content.AsSpan(Bytes(second))), token);
        var okFirst = await client.ReadAsync(MessageType.Ok, token);
        var okSecond = await client.ReadAsync(MessageType.Ok, token);
        await client.SendAsync(RangeMessages.Assemble(3, "e.bin", Size, HashAlgorithms.Sha256, TransferId, SHA256.HashData(content), null, null), token);
        var assembled = await client.ReadAsync(MessageType.Ok, token);

        Assert.True(((Capabilities)(welcome.GetUInt64OrNull(FieldTag.Capabilities) ?? 0)).HasFlag(Capabilities.EagerRanges));
        Assert.Equal(1u, okFirst.RequestId);
        Assert.Equal(SHA256.HashData(content.AsSpan(Bytes(first))), okFirst.GetBytes(FieldTag.HashValue));
        Assert.Equal(2u, okSecond.RequestId);
        Assert.Equal(3u, assembled.RequestId);
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf("e.bin"), token));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 30000)]
    public async Task A_refused_eager_range_is_read_past_and_the_connection_stays_in_step()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectAsync(token);
        await client.HelloAsync(Messages.Hello(ProtocolLimits.Version, Messages.Implemented, RawClient.Agent), token);
        var content = RandomNumberGenerator.GetBytes(Size);
        var held = new FileRange(0, Size / 2);
        var overlapping = new FileRange(Size / 4, Size / 2);

        await SendEagerAsync(client, 1, "e.bin", content, held, SHA256.HashData(content.AsSpan(Bytes(held))), token);
        await SendEagerAsync(client, 2, "e.bin", content, overlapping, SHA256.HashData(content.AsSpan(Bytes(overlapping))), token);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 3, ""), token);

        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 1);
        var refused = await client.ReadAsync(token);
        FrameAssert.IsError(refused, ErrorCode.BadRequest, 2);
        Assert.Contains("overlaps", refused.GetStringOrNull(FieldTag.Message), StringComparison.Ordinal);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 3);
    }

    [Fact(Timeout = 30000)]
    public async Task An_eager_range_that_does_not_match_its_hash_counts_for_nothing_until_sent_again()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectAsync(token);
        await client.HelloAsync(Messages.Hello(ProtocolLimits.Version, Messages.Implemented, RawClient.Agent), token);
        var content = RandomNumberGenerator.GetBytes(Size);
        var whole = new FileRange(0, Size);
        var hash = SHA256.HashData(content);

        await SendEagerAsync(client, 1, "m.bin", content, whole, SHA256.HashData("not these bytes"u8), token);
        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.IntegrityMismatch, 1);
        await client.SendAsync(RangeMessages.Assemble(2, "m.bin", Size, HashAlgorithms.Sha256, TransferId, hash, null, null), token);
        var early = await client.ReadAsync(token);

        // Sent with Ready, the range is offered from its start: nothing of the mismatched bytes is kept.
        await client.SendAsync(RangeMessages.Put(3, "m.bin", Size, HashAlgorithms.Sha256, TransferId, whole), token);
        var ready = await client.ReadAsync(MessageType.Ready, token);
        await client.SendAsync(Messages.ResumeFrom(3, 0), token);
        await client.SendRawAsync(content, token);
        await client.SendAsync(Messages.BodyEnd(3, HashAlgorithms.Sha256, hash), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 3);
        await client.SendAsync(RangeMessages.Assemble(4, "m.bin", Size, HashAlgorithms.Sha256, TransferId, hash, null, null), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 4);

        FrameAssert.IsError(early, ErrorCode.BadRequest, 2);
        Assert.Equal(0, ready.GetSizeOrNull(FieldTag.Offset) ?? 0);
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf("m.bin"), token));
    }

    [Fact(Timeout = 30000)]
    public async Task A_server_without_parallel_streams_does_not_announce_eager_ranges()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { ParallelStreams = false });
        await using var client = await server.ConnectAsync(token);

        var welcome = await client.HelloAsync(Messages.Hello(ProtocolLimits.Version, Messages.Implemented, RawClient.Agent), token);

        var announced = (Capabilities)(welcome.GetUInt64OrNull(FieldTag.Capabilities) ?? 0);
        Assert.False(announced.HasFlag(Capabilities.ParallelStreams));
        Assert.False(announced.HasFlag(Capabilities.EagerRanges));
    }

    private static async Task SendEagerAsync(RawClient client, uint id, string path, byte[] content, FileRange range, byte[] claimedHash, CancellationToken cancellationToken)
    {
        await client.SendAsync(RangeMessages.Put(id, path, content.Length, HashAlgorithms.Sha256, TransferId, range, eager: true), cancellationToken);
        await client.SendRawAsync(content.AsMemory(Bytes(range)), cancellationToken);
        await client.SendAsync(Messages.BodyEnd(id, HashAlgorithms.Sha256, claimedHash), cancellationToken);
    }

    private static Range Bytes(FileRange range) => new((int)range.Offset, (int)range.End);
}
