using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Handlers;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>
/// ParentMTime (DirectoryTimes): a Put or a MakeDirectory leaves its entry's directory at the time it names, set after
/// the entry was made; a failed Put changes nothing; hostile times are clamped as MTime is.
/// </summary>
public sealed class ParentTimeTests
{
    private static readonly DateTimeOffset Wanted = new(2011, 3, 4, 5, 6, 7, TimeSpan.Zero);

    [Fact(Timeout = 30000)]
    public async Task The_server_announces_directory_times_unless_withheld()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var withheld = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { DirectoryTimes = false });
        await using var client = await server.ConnectAsync(token);
        await using var older = await withheld.ConnectAsync(token);

        var welcome = await client.HelloAsync(Messages.Hello(ProtocolLimits.Version, Messages.Implemented, RawClient.Agent), token);
        var withheldWelcome = await older.HelloAsync(Messages.Hello(ProtocolLimits.Version, Messages.Implemented, RawClient.Agent), token);

        Assert.True(((Capabilities)(welcome.GetUInt64OrNull(FieldTag.Capabilities) ?? 0)).HasFlag(Capabilities.DirectoryTimes));
        Assert.False(((Capabilities)(withheldWelcome.GetUInt64OrNull(FieldTag.Capabilities) ?? 0)).HasFlag(Capabilities.DirectoryTimes));
    }

    [Theory(Timeout = 30000)]
    [InlineData("dir/sub/file.bin", "dir/sub")]
    [InlineData("top.bin", "")]
    public async Task A_put_with_a_parent_time_leaves_its_directory_at_that_time(string path, string directory)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);
        var content = RandomNumberGenerator.GetBytes(1000);

        await client.SendAsync(Messages.WithParentTime(Messages.Put(5, path, content.Length, HashAlgorithms.Sha256, null, null), Wanted), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ready, 5);
        await client.SendRawAsync(content, token);
        await client.SendAsync(Messages.BodyEnd(5, HashAlgorithms.Sha256, SHA256.HashData(content)), token);
        var ok = await client.ReadAsync(token);
        FrameAssert.Is(ok, MessageType.Ok, 5);

        Assert.Null(ok.GetUInt64OrNull(FieldTag.ParentTimeNotSet));
        Assert.Equal(content, await File.ReadAllBytesAsync(server.PathOf(path), token));
        Assert.Equal(Wanted.UtcDateTime, Directory.GetLastWriteTimeUtc(server.PathOf(directory)));
    }

    [Fact(Timeout = 30000)]
    public async Task Pipelined_puts_into_one_directory_leave_it_at_the_parent_time_whichever_lands_last()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);
        var files = Enumerable.Range(0, 20).Select(i => RandomNumberGenerator.GetBytes(100 + i)).ToArray();

        // NoWait puts committed as one group: the names, then one directory sync.
        for (int i = 0; i < files.Length; i++)
        {
            uint id = (uint)(i + 1);
            await client.SendAsync(Messages.WithParentTime(Messages.Put(id, $"d/f{i}", files[i].Length, HashAlgorithms.Sha256, null, null, PutFlags.NoWait), Wanted), token);
            await client.SendRawAsync(files[i], token);
            await client.SendAsync(Messages.BodyEnd(id, HashAlgorithms.Sha256, SHA256.HashData(files[i])), token);
        }

        for (int i = 0; i < files.Length; i++)
        {
            FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, (uint)(i + 1));
        }

        Assert.Equal(files.Length, Directory.GetFiles(server.PathOf("d")).Length);
        Assert.Equal(Wanted.UtcDateTime, Directory.GetLastWriteTimeUtc(server.PathOf("d")));
    }

    [Fact(Timeout = 30000)]
    public async Task A_put_that_fails_leaves_its_directory_time_alone()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        Directory.CreateDirectory(server.PathOf("kept"));
        var before = new DateTime(2005, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        Directory.SetLastWriteTimeUtc(server.PathOf("kept"), before);
        await using var client = await server.ConnectReadyAsync(token);
        var content = RandomNumberGenerator.GetBytes(500);

        await client.SendAsync(Messages.WithParentTime(Messages.Put(9, "kept/bad.bin", content.Length, HashAlgorithms.Sha256, null, null), Wanted), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ready, 9);
        await client.SendRawAsync(content, token);
        await client.SendAsync(Messages.BodyEnd(9, HashAlgorithms.Sha256, new byte[32]), token);

        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.IntegrityMismatch, 9);
        Assert.False(File.Exists(server.PathOf("kept/bad.bin")));
        Assert.Equal(before, Directory.GetLastWriteTimeUtc(server.PathOf("kept")));
    }

    [Fact(Timeout = 30000)]
    public async Task A_mkdir_with_a_parent_time_gives_its_own_time_to_it_and_the_parent_time_to_its_parent()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);
        var own = new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeSpan.Zero);

        await client.SendAsync(Messages.WithParentTime(Messages.MakeDirectory(2, "a/b", own, Convert.ToInt32("750", 8)), Wanted), token);
        await client.SendAsync(Messages.WithParentTime(Messages.MakeDirectory(3, "top", null, null), Wanted), token);
        var made = await client.ReadAsync(token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 3);

        FrameAssert.Is(made, MessageType.Ok, 2);
        Assert.False(Messages.ReadParentTimeNotSet(made), "the parent time was set: the Ok must not say otherwise");
        Assert.Null(made.GetUInt64OrNull(FieldTag.ParentTimeNotSet));
        Assert.Equal(own.UtcDateTime, Directory.GetLastWriteTimeUtc(server.PathOf("a/b")));
        Assert.Equal(Wanted.UtcDateTime, Directory.GetLastWriteTimeUtc(server.PathOf("a")));
        Assert.Equal(Wanted.UtcDateTime, Directory.GetLastWriteTimeUtc(server.Root));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
            File.GetUnixFileMode(server.PathOf("a/b")));
    }

    [Theory(Timeout = 30000)]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    [InlineData(-1_000_000_000L)]
    public async Task A_hostile_parent_time_is_clamped_as_an_mtime_is(long nanoseconds)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);
        var content = "x"u8.ToArray();
        var raw = Field.Integer(FieldTag.ParentMTime, nanoseconds);

        // The same value as a directory's own MTime, beside it: the parent time must come out as that does.
        await client.SendAsync(Messages.MakeDirectory(1, "as-mtime", UnixTime.FromNanoseconds(nanoseconds), null), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 1);
        var put = Messages.Put(2, "p/file", content.Length, HashAlgorithms.Sha256, null, null);
        await client.SendAsync(new Frame(put.Type, put.RequestId, [.. put.Fields, raw]), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ready, 2);
        await client.SendRawAsync(content, token);
        await client.SendAsync(Messages.BodyEnd(2, HashAlgorithms.Sha256, SHA256.HashData(content)), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 2);
        var mkdir = Messages.MakeDirectory(3, "q/sub", null, null);
        await client.SendAsync(new Frame(mkdir.Type, mkdir.RequestId, [.. mkdir.Fields, raw]), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 3);

        var expected = Directory.GetLastWriteTimeUtc(server.PathOf("as-mtime"));
        Assert.Equal(expected, Directory.GetLastWriteTimeUtc(server.PathOf("p")));
        Assert.Equal(expected, Directory.GetLastWriteTimeUtc(server.PathOf("q")));
    }
}
