using System.IO.Hashing;
using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>Get, stat, list, delete and hash over a real connection, one by one and pipelined.</summary>
public sealed class RequestTests
{
    [Fact(Timeout = 30000)]
    public async Task Get_sends_data_the_body_and_body_end_with_the_hash()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 5);
        await File.WriteAllBytesAsync(server.PathOf("big.bin"), content, token);
        var modified = new DateTime(2015, 5, 5, 5, 5, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(server.PathOf("big.bin"), modified);
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.Get(21, "/big.bin", HashAlgorithms.Sha256), token);
        var data = await client.ReadAsync(MessageType.Data, token);
        var body = await client.ReadBodyAsync(data.GetSize(FieldTag.Size), token);
        var end = await client.ReadAsync(MessageType.BodyEnd, token);

        Assert.Equal(21u, data.RequestId);
        Assert.Equal(content.Length, data.GetSize(FieldTag.Size));
        Assert.Equal(HashAlgorithms.Sha256, data.GetStringOrNull(FieldTag.HashAlgorithm));
        Assert.Equal(UnixTime.ToNanoseconds(new DateTimeOffset(modified)), data.GetInt64OrNull(FieldTag.MTime));
        Assert.NotNull(data.GetInt64OrNull(FieldTag.Mode));
        Assert.Equal(content, body);
        Assert.Equal(21u, end.RequestId);
        Assert.Equal(SHA256.HashData(content), end.GetBytesOrNull(FieldTag.HashValue));
    }

    [Fact(Timeout = 30000)]
    public async Task Get_of_a_missing_file_is_not_found_and_the_connection_stays_usable()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllTextAsync(server.PathOf("here.txt"), "here", token);
        Directory.CreateDirectory(server.PathOf("dir"));
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.Get(1, "missing.txt", HashAlgorithms.Sha256), token);
        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.NotFound, 1);
        await client.SendAsync(Messages.Get(2, "dir", HashAlgorithms.Sha256), token);
        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.IsADirectory, 2);
        await client.SendAsync(Messages.Get(3, "../etc/passwd", HashAlgorithms.Sha256), token);
        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.InvalidPath, 3);
        await client.SendAsync(Messages.Get(4, "here.txt", HashAlgorithms.Sha256), token);
        var data = await client.ReadAsync(MessageType.Data, token);
        Assert.Equal("here"u8.ToArray(), await client.ReadBodyAsync(data.GetSize(FieldTag.Size), token));
        FrameAssert.Is(await client.ReadAsync(token), MessageType.BodyEnd, 4);
    }

    [Fact(Timeout = 30000)]
    public async Task Stat_describes_a_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        Directory.CreateDirectory(server.PathOf("d"));
        await File.WriteAllTextAsync(server.PathOf("d/f.txt"), "12345", token);
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 8, "d/f.txt"), token);
        var ok = await client.ReadAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 9, "d"), token);
        var dir = await client.ReadAsync(token);

        FrameAssert.Is(ok, MessageType.Ok, 8);
        var entry = Messages.ReadEntry(ok);
        Assert.Equal(("d/f.txt", EntryKind.File, 5L), (entry.Name, entry.Kind, entry.Size));
        Assert.Equal(File.GetLastWriteTimeUtc(server.PathOf("d/f.txt")), entry.ModifiedUtc.UtcDateTime);
        Assert.Equal(EntryKind.Directory, Messages.ReadEntry(dir).Kind);
    }

    [Fact(Timeout = 30000)]
    public async Task List_sends_sorted_entries_and_the_count()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        foreach (var name in new[] { "zeta.txt", "Alpha.txt", "beta.txt" })
        {
            await File.WriteAllTextAsync(server.PathOf(name), name, token);
        }

        Directory.CreateDirectory(server.PathOf("middle"));
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.PathRequest(MessageType.List, 30, "/"), token);
        var entries = new List<RemoteEntry>();
        Frame frame;
        while ((frame = await client.ReadAsync(token)).Type == MessageType.Entry)
        {
            Assert.Equal(30u, frame.RequestId);
            entries.Add(Messages.ReadEntry(frame));
        }

        FrameAssert.Is(frame, MessageType.EndOfList, 30);
        Assert.Equal(4ul, frame.GetUInt64OrNull(FieldTag.Count));
        Assert.Equal(["Alpha.txt", "beta.txt", "middle", "zeta.txt"], entries.Select(e => e.Name));
        Assert.Equal([EntryKind.File, EntryKind.File, EntryKind.Directory, EntryKind.File], entries.Select(e => e.Kind));
        Assert.Equal("Alpha.txt".Length, entries[0].Size);
    }

    [Fact(Timeout = 30000)]
    public async Task List_of_an_empty_directory_is_just_the_end_and_list_of_a_file_is_an_error()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllTextAsync(server.PathOf("f.txt"), "f", token);
        Directory.CreateDirectory(server.PathOf("empty"));
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.PathRequest(MessageType.List, 1, "empty"), token);
        var end = await client.ReadAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.List, 2, "f.txt"), token);
        var error = await client.ReadAsync(token);

        FrameAssert.Is(end, MessageType.EndOfList, 1);
        Assert.Equal(0ul, end.GetUInt64OrNull(FieldTag.Count));
        FrameAssert.IsError(error, ErrorCode.NotADirectory, 2);
    }

    [Fact(Timeout = 30000)]
    public async Task Delete_removes_a_file_and_refuses_a_non_empty_directory()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        Directory.CreateDirectory(server.PathOf("full"));
        await File.WriteAllTextAsync(server.PathOf("full/f.txt"), "f", token);
        await File.WriteAllTextAsync(server.PathOf("gone.txt"), "gone", token);
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.PathRequest(MessageType.Delete, 1, "gone.txt"), token);
        var deleted = await client.ReadAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.Delete, 2, "full"), token);
        var notEmpty = await client.ReadAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.Delete, 3, "gone.txt"), token);
        var missing = await client.ReadAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.Delete, 4, "/"), token);
        var root = await client.ReadAsync(token);

        FrameAssert.Is(deleted, MessageType.Ok, 1);
        Assert.Equal("gone.txt", Messages.ReadEntry(deleted).Name);
        Assert.Equal(4, Messages.ReadEntry(deleted).Size);
        Assert.False(File.Exists(server.PathOf("gone.txt")));
        FrameAssert.IsError(notEmpty, ErrorCode.DirectoryNotEmpty, 2);
        Assert.True(File.Exists(server.PathOf("full/f.txt")));
        FrameAssert.IsError(missing, ErrorCode.NotFound, 3);
        FrameAssert.IsError(root, ErrorCode.AccessDenied, 4);
    }

    [Theory(Timeout = 30000)]
    [InlineData(HashAlgorithms.Sha256)]
    [InlineData(HashAlgorithms.XxHash128)]
    public async Task Hash_returns_the_digest_of_the_stored_file(string algorithm)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var content = RandomNumberGenerator.GetBytes(1024 * 1024 + 3);
        await File.WriteAllBytesAsync(server.PathOf("h.bin"), content, token);
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.Hash(12, "h.bin", algorithm), token);
        var ok = await client.ReadAsync(token);

        FrameAssert.Is(ok, MessageType.Ok, 12);
        var expected = algorithm == HashAlgorithms.Sha256 ? SHA256.HashData(content) : XxHash128.Hash(content);
        Assert.Equal(expected, ok.GetBytesOrNull(FieldTag.HashValue));
        Assert.Equal(algorithm, ok.GetStringOrNull(FieldTag.HashAlgorithm));
        Assert.Equal(content.Length, ok.GetSizeOrNull(FieldTag.Size));
        Assert.Equal("h.bin", ok.GetStringOrNull(FieldTag.Path));
    }

    [Fact(Timeout = 30000)]
    public async Task An_unsupported_hash_algorithm_is_refused_and_the_connection_goes_on()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllTextAsync(server.PathOf("h.txt"), "h", token);
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(Messages.Hash(1, "h.txt", "md5"), token);
        var hashError = await client.ReadAsync(token);
        await client.SendAsync(Messages.Get(2, "h.txt", "SHA256"), token);
        var getError = await client.ReadAsync(token);
        await client.SendAsync(Messages.Hash(3, "h.txt", HashAlgorithms.Sha256), token);
        var ok = await client.ReadAsync(token);

        FrameAssert.IsError(hashError, ErrorCode.UnsupportedHashAlgorithm, 1);
        FrameAssert.IsError(getError, ErrorCode.UnsupportedHashAlgorithm, 2);
        FrameAssert.Is(ok, MessageType.Ok, 3);
    }

    [Theory(Timeout = 30000)]
    [InlineData("")]
    [InlineData("x")]
    public async Task An_error_about_a_long_non_ascii_path_is_still_answered(string prefix)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);
        // Emoji are two UTF-16 chars: a message cut to a fixed char count can split one in half.
        var component = string.Concat(Enumerable.Repeat("\U0001F600", 60));
        var path = prefix + string.Join('/', Enumerable.Repeat(component, 4));

        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 1, path), token);
        var error = await client.ReadAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 2, "/"), token);

        FrameAssert.IsError(error, ErrorCode.NotFound, 1);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 2);
    }

    [Fact(Timeout = 30000)]
    public async Task Many_requests_on_one_connection_are_all_answered()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllTextAsync(server.PathOf("f.txt"), "content", token);
        var expected = SHA256.HashData("content"u8);
        await using var client = await server.ConnectReadyAsync(token);

        for (uint id = 1; id <= 200; id++)
        {
            var request = id % 2 == 0
                ? Messages.Hash(id, "f.txt", HashAlgorithms.Sha256)
                : Messages.PathRequest(MessageType.Stat, id, "f.txt");
            await client.SendAsync(request, token);
            var answer = await client.ReadAsync(token);

            FrameAssert.Is(answer, MessageType.Ok, id);
            if (id % 2 == 0)
            {
                Assert.Equal(expected, answer.GetBytesOrNull(FieldTag.HashValue));
            }
            else
            {
                Assert.Equal(7, answer.GetSizeOrNull(FieldTag.Size));
            }
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Pipelined_requests_are_answered_in_order_with_their_ids()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllTextAsync(server.PathOf("f.txt"), "content", token);
        await using var client = await server.ConnectReadyAsync(token);
        byte[] requests =
        [
            .. RawFrames.Of(Messages.PathRequest(MessageType.Stat, 101, "f.txt")),
            .. RawFrames.Of(Messages.Get(102, "missing.txt", HashAlgorithms.Sha256)),
            .. RawFrames.Of(Messages.Hash(103, "f.txt", HashAlgorithms.XxHash128)),
            .. RawFrames.Of(Messages.PathRequest(MessageType.List, 104, "/")),
        ];

        // One write: the server finds all four in its buffer before it answers the first.
        await client.SendRawAsync(requests, token);

        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 101);
        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.NotFound, 102);
        var hash = await client.ReadAsync(token);
        FrameAssert.Is(hash, MessageType.Ok, 103);
        Assert.Equal(XxHash128.Hash("content"u8), hash.GetBytesOrNull(FieldTag.HashValue));
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Entry, 104);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.EndOfList, 104);
    }

    [Fact(Timeout = 30000)]
    public async Task A_put_pipelined_with_its_body_and_a_following_request_is_served_in_order()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);
        var content = "pipelined body"u8.ToArray();
        byte[] wire =
        [
            .. RawFrames.Of(Messages.Put(1, "p.txt", content.Length, HashAlgorithms.Sha256, null, null)),
            .. content,
            .. RawFrames.Of(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(content))),
            .. RawFrames.Of(Messages.PathRequest(MessageType.Stat, 2, "p.txt")),
        ];

        await client.SendRawAsync(wire, token);

        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ready, 1);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 1);
        var stat = await client.ReadAsync(token);
        FrameAssert.Is(stat, MessageType.Ok, 2);
        Assert.Equal(content.Length, stat.GetSizeOrNull(FieldTag.Size));
    }
}
