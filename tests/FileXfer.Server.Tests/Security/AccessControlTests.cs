using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Tests.Security;

/// <summary>What an authenticated token may do: read-only tokens cannot write, subtree tokens cannot leave their subtree.</summary>
public sealed class AccessControlTests
{
    [Fact(Timeout = 30000)]
    public async Task A_read_only_token_cannot_put_rm_or_mkdir_and_its_connection_stays_usable()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await File.WriteAllTextAsync(server.PathOf("kept.txt"), "abc", token);
        await using var client = await server.ConnectAsAsync("reader", AuthServer.ReaderSecret, token);

        var put = await client.StartPutAsync(1, "new.txt", 3, token);
        await client.SendAsync(Messages.PathRequest(MessageType.Delete, 2, "kept.txt"), token);
        var delete = await client.ReadAsync(token);
        await client.SendAsync(Messages.MakeDirectory(3, "dir", modified: null, mode: null), token);
        var mkdir = await client.ReadAsync(token);

        FrameAssert.IsError(put, ErrorCode.AccessDenied, 1);
        FrameAssert.IsError(delete, ErrorCode.AccessDenied, 2);
        FrameAssert.IsError(mkdir, ErrorCode.AccessDenied, 3);
        Assert.Contains("read-only", put.GetString(FieldTag.Message), StringComparison.Ordinal);
        Assert.False(File.Exists(server.PathOf("new.txt")));
        Assert.True(File.Exists(server.PathOf("kept.txt")));
        Assert.False(Directory.Exists(server.PathOf("dir")));
        Assert.Empty(server.TempFiles());

        // Still in step: a read works on the same connection.
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 4, "kept.txt"), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 4);
    }

    [Fact(Timeout = 30000)]
    public async Task A_read_only_token_cannot_put_a_pipelined_body_and_the_body_is_skipped()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var client = await server.ConnectAsAsync("reader", AuthServer.ReaderSecret, token);
        var content = "abc"u8.ToArray();

        await client.SendAsync(Messages.Put(1, "piped.txt", content.Length, HashAlgorithms.Sha256, null, null, PutFlags.NoWait), token);
        await client.SendRawAsync(content, token);
        await client.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(content)), token);
        await client.SendAsync(Messages.PathRequest(MessageType.List, 2, ""), token);

        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.AccessDenied, 1);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.EndOfList, 2);
        Assert.False(File.Exists(server.PathOf("piped.txt")));
    }

    [Fact(Timeout = 30000)]
    public async Task A_read_only_token_can_get_list_stat_and_hash()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await File.WriteAllTextAsync(server.PathOf("kept.txt"), "abc", token);
        await using var client = await server.ConnectAsAsync("reader", AuthServer.ReaderSecret, token);

        await client.SendAsync(Messages.Get(1, "kept.txt", HashAlgorithms.Sha256), token);
        var data = await client.ReadAsync(MessageType.Data, token);
        var body = await client.ReadBodyAsync(data.GetSize(FieldTag.Size), token);
        await client.ReadAsync(MessageType.BodyEnd, token);
        await client.SendAsync(Messages.PathRequest(MessageType.List, 2, ""), token);
        var entry = await client.ReadAsync(MessageType.Entry, token);
        await client.ReadAsync(MessageType.EndOfList, token);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 3, "kept.txt"), token);
        var stat = await client.ReadAsync(MessageType.Ok, token);
        await client.SendAsync(Messages.Hash(4, "kept.txt", HashAlgorithms.Sha256), token);
        var hash = await client.ReadAsync(MessageType.Ok, token);

        Assert.Equal("abc"u8.ToArray(), body);
        Assert.Equal("kept.txt", entry.GetString(FieldTag.Name));
        Assert.Equal(3, stat.GetSize(FieldTag.Size));
        Assert.Equal(SHA256.HashData("abc"u8), hash.GetBytes(FieldTag.HashValue));
    }

    [Fact(Timeout = 30000)]
    public async Task A_subtree_token_sees_its_subtree_as_the_root_created_when_missing()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await File.WriteAllTextAsync(server.PathOf("top-secret.txt"), "outside", token);
        await using var client = await server.ConnectAsAsync("tenant", AuthServer.TenantSecret, token);

        FrameAssert.Is(await client.PutAsync(1, "/mine.txt", "abc"u8.ToArray(), token), MessageType.Ok, 1);
        await client.SendAsync(Messages.PathRequest(MessageType.List, 2, "/"), token);
        var listed = new List<string>();
        Frame frame;
        while ((frame = await client.ReadAsync(token)).Type == MessageType.Entry)
        {
            listed.Add(frame.GetString(FieldTag.Name));
        }

        Assert.Equal("abc", await File.ReadAllTextAsync(Path.Combine(server.Store.Root, "tenants", "a", "mine.txt"), token));
        Assert.False(File.Exists(server.PathOf("mine.txt")));
        Assert.Equal(["mine.txt"], listed);
        FrameAssert.Is(frame, MessageType.EndOfList, 2);
    }

    [Fact(Timeout = 30000)]
    public async Task A_subtree_token_cannot_reach_a_sibling_by_name_or_by_dot_dot()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        Directory.CreateDirectory(server.PathOf(Path.Combine("tenants", "b")));
        await File.WriteAllTextAsync(server.PathOf(Path.Combine("tenants", "b", "secret.txt")), "b's", token);
        await File.WriteAllTextAsync(server.PathOf("top-secret.txt"), "outside", token);
        await using var client = await server.ConnectAsAsync("tenant", AuthServer.TenantSecret, token);

        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 1, "/tenants/b/secret.txt"), token);
        var byName = await client.ReadAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 2, "../b/secret.txt"), token);
        var byDotDot = await client.ReadAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 3, "/../../top-secret.txt"), token);
        var byRootDotDot = await client.ReadAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.Delete, 4, "../b/secret.txt"), token);
        var delete = await client.ReadAsync(token);

        FrameAssert.IsError(byName, ErrorCode.NotFound, 1);
        FrameAssert.IsError(byDotDot, ErrorCode.InvalidPath, 2);
        FrameAssert.IsError(byRootDotDot, ErrorCode.InvalidPath, 3);
        FrameAssert.IsError(delete, ErrorCode.InvalidPath, 4);
        Assert.True(File.Exists(server.PathOf(Path.Combine("tenants", "b", "secret.txt"))));
    }

    [Fact(Timeout = 30000)]
    public async Task A_symbolic_link_in_a_subtree_that_leads_out_of_it_is_refused()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        var subtree = server.PathOf(Path.Combine("tenants", "a"));
        var sibling = server.PathOf(Path.Combine("tenants", "b"));
        Directory.CreateDirectory(subtree);
        Directory.CreateDirectory(sibling);
        await File.WriteAllTextAsync(Path.Combine(sibling, "secret.txt"), "b's", token);
        // Inside the server's root, but outside this token's subtree.
        Directory.CreateSymbolicLink(Path.Combine(subtree, "escape"), sibling);
        File.CreateSymbolicLink(Path.Combine(subtree, "escape.txt"), Path.Combine(sibling, "secret.txt"));
        await using var client = await server.ConnectAsAsync("tenant", AuthServer.TenantSecret, token);

        await client.SendAsync(Messages.Get(1, "escape/secret.txt", HashAlgorithms.Sha256), token);
        var throughDirectory = await client.ReadAsync(token);
        await client.SendAsync(Messages.Get(2, "escape.txt", HashAlgorithms.Sha256), token);
        var throughFile = await client.ReadAsync(token);
        var put = await client.PutAsync(3, "escape/planted.txt", "x"u8.ToArray(), token);

        FrameAssert.IsError(throughDirectory, ErrorCode.AccessDenied, 1);
        FrameAssert.IsError(throughFile, ErrorCode.AccessDenied, 2);
        FrameAssert.IsError(put, ErrorCode.AccessDenied, 3);
        Assert.False(File.Exists(Path.Combine(sibling, "planted.txt")));
    }
}
