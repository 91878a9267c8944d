using System.Diagnostics;
using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Tests.Storage;

/// <summary>
/// Small files are opened for get and hash without a walk of their path (no link followed as the last component, no
/// blocking on a FIFO, the handle located inside the root): they are described as the walk described them, and what
/// the direct way cannot serve goes the full way with the same answers.
/// </summary>
public sealed class DirectReadTests
{
    [Fact(Timeout = 30000)]
    public async Task A_small_file_comes_with_its_time_mode_and_hash()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var content = RandomNumberGenerator.GetBytes(4096);
        var path = server.PathOf("d/small.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, content, token);
        var modified = new DateTime(2016, 6, 6, 6, 6, 6, DateTimeKind.Utc).AddTicks(1234567);
        File.SetLastWriteTimeUtc(path, modified);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.Get(1, "d/small.bin", HashAlgorithms.Sha256), token);
        var data = await client.ReadAsync(MessageType.Data, token);
        var body = await client.ReadBodyAsync(data.GetSize(FieldTag.Size), token);
        var end = await client.ReadAsync(MessageType.BodyEnd, token);

        Assert.Equal(content, body);
        Assert.Equal(SHA256.HashData(content), end.GetBytesOrNull(FieldTag.HashValue));
        Assert.Equal(UnixTime.ToNanoseconds(new DateTimeOffset(modified)), data.GetInt64OrNull(FieldTag.MTime));
        Assert.Equal(Convert.ToInt32("640", 8), data.GetInt64OrNull(FieldTag.Mode));
        Assert.Equal(server.Store.Stat("d/small.bin"), Messages.ReadEntry(await StatAsync(client, 2, "d/small.bin", token)));
    }

    [Fact(Timeout = 30000)]
    public async Task A_fifo_is_refused_at_once_for_get_and_hash_and_listed_as_other()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        MakeFifo(server.PathOf("pipe"));
        await using var client = await server.ConnectReadyAsync(token);

        // Opening a FIFO to read it blocks until a writer comes: the server must not open it that way.
        await client.SendAsync(Messages.Get(1, "pipe", HashAlgorithms.Sha256), token);
        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.AccessDenied, 1);
        await client.SendAsync(Messages.Hash(2, "pipe", HashAlgorithms.Sha256), token);
        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.AccessDenied, 2);

        Assert.Equal(EntryKind.Other, Assert.Single(server.Store.ListEntries("/")).Kind);
    }

    [Fact(Timeout = 30000)]
    public async Task A_file_reached_through_a_link_inside_the_root_is_served_and_a_last_link_is_served_as_its_target()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        Directory.CreateDirectory(server.PathOf("real"));
        await File.WriteAllTextAsync(server.PathOf("real/f.txt"), "inside", token);
        Directory.CreateSymbolicLink(server.PathOf("alias"), server.PathOf("real"));
        File.CreateSymbolicLink(server.PathOf("real/last"), server.PathOf("real/f.txt"));
        await using var client = await server.ConnectReadyAsync(token);

        Assert.Equal("inside"u8.ToArray(), await GetAsync(client, 1, "alias/f.txt", token));
        Assert.Equal("inside"u8.ToArray(), await GetAsync(client, 2, "real/last", token));
        Assert.Equal("inside"u8.ToArray(), await GetAsync(client, 3, "alias/last", token));
    }

    private static async Task<byte[]> GetAsync(RawClient client, uint id, string path, CancellationToken token)
    {
        await client.SendAsync(Messages.Get(id, path, HashAlgorithms.Sha256), token);
        var data = await client.ReadAsync(MessageType.Data, token);
        var body = await client.ReadBodyAsync(data.GetSize(FieldTag.Size), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.BodyEnd, id);
        return body;
    }

    private static async Task<Frame> StatAsync(RawClient client, uint id, string path, CancellationToken token)
    {
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, id, path), token);
        var answer = await client.ReadAsync(token);
        FrameAssert.Is(answer, MessageType.Ok, id);
        return answer;
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }
}
