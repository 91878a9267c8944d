using System.IO.Hashing;
using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>Put over a real connection: the happy path, a wrong hash, a body cut short, and refusals.</summary>
public sealed class PutRequestTests
{
    [Theory(Timeout = 30000)]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3 * 1024 * 1024 + 17)]
    public async Task A_put_stores_the_file_and_answers_with_its_sha256(int size)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);
        var content = RandomNumberGenerator.GetBytes(size);

        var ready = await client.StartPutAsync(41, "/dir/sub/file.bin", content.Length, token);
        FrameAssert.Is(ready, MessageType.Ready, 41);
        Assert.Equal(0, ready.GetInt64OrNull(FieldTag.Offset));
        await client.SendRawAsync(content, token);
        await client.SendAsync(Messages.BodyEnd(41, HashAlgorithms.Sha256, SHA256.HashData(content)), token);
        var ok = await client.ReadAsync(token);

        FrameAssert.Is(ok, MessageType.Ok, 41);
        Assert.Equal("dir/sub/file.bin", ok.GetStringOrNull(FieldTag.Path));
        Assert.Equal(size, ok.GetSizeOrNull(FieldTag.Size));
        Assert.Equal(HashAlgorithms.Sha256, ok.GetStringOrNull(FieldTag.HashAlgorithm));
        Assert.Equal(SHA256.HashData(content), ok.GetBytesOrNull(FieldTag.HashValue));
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf("dir/sub/file.bin"), token));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 30000)]
    public async Task A_put_applies_the_modification_time_and_mode_it_carries()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);
        var modified = new DateTimeOffset(2010, 6, 7, 8, 9, 10, TimeSpan.Zero);
        var content = "with metadata"u8.ToArray();

        await client.SendAsync(Messages.Put(3, "meta.txt", content.Length, HashAlgorithms.Sha256, modified, Convert.ToInt32("600", 8)), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ready, 3);
        await client.SendRawAsync(content, token);
        await client.SendAsync(Messages.BodyEnd(3, HashAlgorithms.Sha256, SHA256.HashData(content)), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 3);

        Assert.Equal(modified.UtcDateTime, File.GetLastWriteTimeUtc(server.PathOf("meta.txt")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.PathOf("meta.txt")));
    }

    [Fact(Timeout = 30000)]
    public async Task A_put_can_use_xxh128()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);
        var content = RandomNumberGenerator.GetBytes(100_000);
        var hash = XxHash128.Hash(content);

        await client.SendAsync(Messages.Put(9, "fast.bin", content.Length, HashAlgorithms.XxHash128, null, null), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ready, 9);
        await client.SendRawAsync(content, token);
        await client.SendAsync(Messages.BodyEnd(9, HashAlgorithms.XxHash128, hash), token);
        var ok = await client.ReadAsync(token);

        FrameAssert.Is(ok, MessageType.Ok, 9);
        Assert.Equal(hash, ok.GetBytesOrNull(FieldTag.HashValue));
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf("fast.bin"), token));
    }

    [Fact(Timeout = 30000)]
    public async Task A_wrong_hash_is_an_integrity_error_that_keeps_the_old_file_and_the_connection()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllTextAsync(server.PathOf("f.txt"), "old content", token);
        await using var client = await server.ConnectReadyAsync(token);
        var content = RandomNumberGenerator.GetBytes(200_000);
        var wrong = SHA256.HashData(content);
        wrong[0] ^= 0xFF;

        var answer = await client.PutClaimingAsync(5, "f.txt", content, wrong, token);
        FrameAssert.IsError(answer, ErrorCode.IntegrityMismatch, 5);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 6, "f.txt"), token);
        var stat = await client.ReadAsync(token);

        Assert.Equal("old content", await File.ReadAllTextAsync(server.PathOf("f.txt"), token));
        Assert.Empty(server.TempFiles());
        FrameAssert.Is(stat, MessageType.Ok, 6);
        Assert.Equal("old content".Length, stat.GetSizeOrNull(FieldTag.Size));
    }

    [Theory(Timeout = 30000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_cut_short_leaves_no_file_and_no_temp_and_the_server_serves_on(bool reset)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var content = RandomNumberGenerator.GetBytes(1024 * 1024);
        await using (var client = await server.ConnectReadyAsync(token))
        {
            FrameAssert.Is(await client.StartPutAsync(1, "cut.bin", content.Length, token), MessageType.Ready, 1);
            await client.SendRawAsync(content.AsMemory(0, content.Length / 2), token);
            if (reset)
            {
                client.Abort();
            }
        }

        // The server logs the close only after the handler has disposed the upload.
        await server.WaitForClosedConnectionsAsync(1, token);

        Assert.False(File.Exists(server.PathOf("cut.bin")));
        Assert.Empty(server.TempFiles());
        await using var next = await server.ConnectReadyAsync(token);
        FrameAssert.Is(await next.PutAsync(2, "cut.bin", content, token), MessageType.Ok, 2);
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf("cut.bin"), token));
    }

    [Fact(Timeout = 30000)]
    public async Task A_frame_other_than_body_end_after_the_body_closes_the_connection()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        FrameAssert.Is(await client.StartPutAsync(1, "x.txt", 3, token), MessageType.Ready, 1);
        await client.SendRawAsync("abc"u8.ToArray(), token);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 2, "x.txt"), token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var frames = await client.ReadUntilClosedAsync(deadline.Token);

        FrameAssert.IsError(Assert.Single(frames), ErrorCode.ProtocolViolation, 1);
        Assert.False(File.Exists(server.PathOf("x.txt")));
        await server.WaitForClosedConnectionsAsync(1, token);
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 30000)]
    public async Task Refused_puts_get_an_error_instead_of_ready_and_the_connection_goes_on()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, options: new FileStoreOptions { MaxFileSize = 1000 });
        Directory.CreateDirectory(server.PathOf("dir"));
        await File.WriteAllTextAsync(server.PathOf("file.txt"), "f", token);
        await using var client = await server.ConnectReadyAsync(token);

        FrameAssert.IsError(await client.StartPutAsync(1, "big.bin", 1001, token), ErrorCode.TooLarge, 1);
        FrameAssert.IsError(await client.StartPutAsync(2, "../escape.txt", 1, token), ErrorCode.InvalidPath, 2);
        FrameAssert.IsError(await client.StartPutAsync(3, ".filexfer/staging/x.part", 1, token), ErrorCode.InvalidPath, 3);
        FrameAssert.IsError(await client.StartPutAsync(4, "dir", 1, token), ErrorCode.IsADirectory, 4);
        FrameAssert.IsError(await client.StartPutAsync(5, "file.txt/x", 1, token), ErrorCode.NotADirectory, 5);
        await client.SendAsync(Messages.Put(6, "odd.txt", 1, "md5", null, null), token);
        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.UnsupportedHashAlgorithm, 6);
        FrameAssert.Is(await client.PutAsync(7, "fine.txt", "ok"u8.ToArray(), token), MessageType.Ok, 7);

        Assert.Empty(server.TempFiles());
    }
}
