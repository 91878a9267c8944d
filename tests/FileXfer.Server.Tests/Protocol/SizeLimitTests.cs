using System.Buffers.Binary;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>
/// The largest file and the largest listing the server serves, over the wire: refused with TooLarge before the
/// bytes or entries past the limit are taken or produced.
/// </summary>
public class SizeLimitTests
{
    [Fact(Timeout = 30000)]
    public async Task A_chunked_put_without_a_size_is_refused_at_the_chunk_that_passes_the_largest_file_size()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, options: new FileStoreOptions { MaxFileSize = 1000 });
        await using var client = await server.ConnectReadyAsync(token);
        FrameAssert.Is(
            await SendAndReadAsync(client, Messages.Put(1, "big.bin", size: null, HashAlgorithms.Sha256, null, null, PutFlags.Chunked), token),
            MessageType.Ready,
            1);

        await client.SendRawAsync(Chunk(600), token);
        // The second chunk's header claims more than the limit leaves: the server refuses before reading its data.
        await client.SendRawAsync(ChunkHeader(600), token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var frames = await client.ReadUntilClosedAsync(deadline.Token);

        var error = Assert.Single(frames);
        FrameAssert.IsError(error, ErrorCode.TooLarge, 1);
        Assert.Contains("1000", error.GetStringOrNull(FieldTag.Message), StringComparison.Ordinal);
        await server.WaitForClosedConnectionsAsync(1, token);
        Assert.False(File.Exists(server.PathOf("big.bin")));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 30000)]
    public async Task A_listing_over_the_entry_limit_is_refused_with_too_large_and_the_connection_goes_on()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, options: new FileStoreOptions { MaxListEntries = 10 });
        for (int i = 0; i < 11; i++)
        {
            await File.WriteAllTextAsync(server.PathOf($"f{i:00}.txt"), "x", token);
        }

        await using var client = await server.ConnectReadyAsync(token);
        var answer = await SendAndReadAsync(client, Messages.List(1, "/", ListFlags.None), token);

        FrameAssert.IsError(answer, ErrorCode.TooLarge, 1);
        Assert.Equal("'' has more than 10 entries (the server's --max-list-entries)", answer.GetStringOrNull(FieldTag.Message));
        FrameAssert.Is(await client.PutAsync(2, "still-open.txt", "y"u8.ToArray(), token), MessageType.Ok, 2);
    }

    [Fact(Timeout = 30000)]
    public async Task A_recursive_listing_is_limited_per_directory_not_per_tree()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, options: new FileStoreOptions { MaxListEntries = 10 });
        // Each directory is small; the tree is not, and streams whole. Then one directory over the limit ends it.
        for (int d = 0; d < 4; d++)
        {
            Directory.CreateDirectory(server.PathOf($"d{d}"));
            for (int i = 0; i < 4; i++)
            {
                await File.WriteAllTextAsync(server.PathOf($"d{d}/f{i}.txt"), "x", token);
            }
        }

        await using var client = await server.ConnectReadyAsync(token);
        await client.SendAsync(Messages.List(1, "/", ListFlags.Recursive), token);
        var frames = new List<Frame>();
        do
        {
            frames.Add(await client.ReadAsync(token));
        }
        while (frames[^1].Type == MessageType.Entry);

        Assert.Equal(4 + 16 + 1, frames.Count);
        FrameAssert.Is(frames[^1], MessageType.EndOfList, 1);
        Assert.Equal(20, frames[^1].GetSize(FieldTag.Count));

        for (int i = 4; i < 11; i++)
        {
            await File.WriteAllTextAsync(server.PathOf($"d3/f{i}.txt"), "x", token);
        }

        await client.SendAsync(Messages.List(2, "/", ListFlags.Recursive), token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var cut = await client.ReadUntilClosedAsync(deadline.Token);

        FrameAssert.IsError(cut[^1], ErrorCode.TooLarge, 2);
        Assert.Equal("'d3' has more than 10 entries (the server's --max-list-entries)", cut[^1].GetStringOrNull(FieldTag.Message));
    }

    private static async Task<Frame> SendAndReadAsync(RawClient client, Frame request, CancellationToken cancellationToken)
    {
        await client.SendAsync(request, cancellationToken);
        return await client.ReadAsync(cancellationToken);
    }

    private static byte[] ChunkHeader(int length)
    {
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)length);
        return header;
    }

    private static byte[] Chunk(int length) => [.. ChunkHeader(length), .. new byte[length]];
}
