using System.Buffers.Binary;
using System.Text;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Tests.Security;

/// <summary>
/// Paths in depth, over a live server: every way a client could name something outside the root or inside the
/// server's own folder is refused, for every request that takes a path, and the connection stays usable.
/// Beside the root <c>root</c> lie <c>outside</c> and <c>root-evil</c> (a folder whose name has the root's as a prefix).
/// </summary>
public sealed class PathAttackTests
{
    public static readonly TheoryData<MessageType> Operations =
    [
        MessageType.Get, MessageType.Put, MessageType.Stat, MessageType.List, MessageType.Delete, MessageType.Hash, MessageType.MakeDirectory,
    ];

    [Theory(Timeout = 30000)]
    [InlineData("../outside/secret.txt")]
    [InlineData("a/../../outside/secret.txt")]
    [InlineData("/../outside/secret.txt")]
    [InlineData("..")]
    [InlineData("..\\outside\\secret.txt")]
    [InlineData("a\\..\\..\\outside\\secret.txt")]
    [InlineData("a/..\\..\\outside")]
    [InlineData("./a")]
    public async Task Traversal_with_either_separator_is_an_invalid_path_for_every_request(string path)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        await using var client = await server.ConnectReadyAsync(token);

        uint id = 1;
        foreach (var operation in Operations)
        {
            FrameAssert.IsError(await RequestAsync(client, operation, id, path, token), ErrorCode.InvalidPath, id);
            id++;
        }

        await AssertStillServesAsync(client, id, token);
        AssertNeighboursUntouched(server);
    }

    [Theory(Timeout = 30000)]
    [InlineData("C:")]
    [InlineData("C:/Windows/win.ini")]
    [InlineData("c:\\x")]
    [InlineData("C:foo")]
    [InlineData("\\\\server\\share")]
    [InlineData("\\etc\\passwd")]
    [InlineData("//etc/passwd")]
    public async Task Rooted_and_drive_letter_names_are_invalid_paths(string path)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        await using var client = await server.ConnectReadyAsync(token);

        uint id = 1;
        foreach (var operation in Operations)
        {
            FrameAssert.IsError(await RequestAsync(client, operation, id, path, token), ErrorCode.InvalidPath, id);
            id++;
        }

        await AssertStillServesAsync(client, id, token);
    }

    [Fact(Timeout = 30000)]
    public async Task An_absolute_path_names_a_path_under_the_root_never_the_server_file_system()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        await using var client = await server.ConnectReadyAsync(token);
        var outside = Neighbour(server, "outside", "secret.txt");

        FrameAssert.IsError(await RequestAsync(client, MessageType.Get, 1, "/etc/passwd", token), ErrorCode.NotFound, 1);
        FrameAssert.IsError(await RequestAsync(client, MessageType.Stat, 2, outside, token), ErrorCode.NotFound, 2);
        FrameAssert.IsError(await RequestAsync(client, MessageType.Delete, 3, outside, token), ErrorCode.NotFound, 3);
        Assert.True(File.Exists(outside));
    }

    [Theory(Timeout = 30000)]
    [MemberData(nameof(Operations))]
    public async Task A_link_as_the_middle_component_leading_out_is_refused(MessageType operation)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        Directory.CreateSymbolicLink(server.PathOf("mid"), Neighbour(server, "outside"));
        await using var client = await server.ConnectReadyAsync(token);

        var path = operation == MessageType.Put ? "mid/new.txt" : operation == MessageType.MakeDirectory ? "mid/newdir" : "mid/secret.txt";
        FrameAssert.IsError(await RequestAsync(client, operation, 1, path, token), ErrorCode.AccessDenied, 1);

        await AssertStillServesAsync(client, 2, token);
        AssertNeighboursUntouched(server);
    }

    [Theory(Timeout = 30000)]
    [MemberData(nameof(Operations))]
    public async Task A_link_as_the_last_component_leading_out_is_refused(MessageType operation)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        Directory.CreateDirectory(server.PathOf("a"));
        File.CreateSymbolicLink(server.PathOf("a/last"), Neighbour(server, "outside", "secret.txt"));
        Directory.CreateSymbolicLink(server.PathOf("a/lastdir"), Neighbour(server, "outside"));
        await using var client = await server.ConnectReadyAsync(token);

        var path = operation is MessageType.List or MessageType.MakeDirectory ? "a/lastdir" : "a/last";
        FrameAssert.IsError(await RequestAsync(client, operation, 1, path, token), ErrorCode.AccessDenied, 1);

        await AssertStillServesAsync(client, 2, token);
        AssertNeighboursUntouched(server);
    }

    [Theory(Timeout = 30000)]
    [MemberData(nameof(Operations))]
    public async Task A_link_to_a_sibling_whose_name_has_the_root_as_a_prefix_is_outside(MessageType operation)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        // ".../root-evil" starts with ".../root": a prefix test on strings would let it in.
        Directory.CreateSymbolicLink(server.PathOf("evil"), Neighbour(server, "root-evil"));
        await using var client = await server.ConnectReadyAsync(token);

        var path = operation == MessageType.Put ? "evil/new.txt" : operation == MessageType.MakeDirectory ? "evil/newdir" : "evil/secret.txt";
        FrameAssert.IsError(await RequestAsync(client, operation, 1, path, token), ErrorCode.AccessDenied, 1);

        await AssertStillServesAsync(client, 2, token);
        AssertNeighboursUntouched(server);
    }

    [Theory(Timeout = 30000)]
    [MemberData(nameof(Operations))]
    public async Task A_dangling_link_inside_the_root_is_refused_as_one_and_a_dangling_link_out_as_leading_out(MessageType operation)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        Directory.CreateDirectory(server.PathOf("a"));
        File.CreateSymbolicLink(server.PathOf("a/dangling"), server.PathOf("missing.txt"));
        Directory.CreateSymbolicLink(server.PathOf("gone"), "missingdir");
        File.CreateSymbolicLink(server.PathOf("a/nowhere"), Neighbour(server, "outside", "missing.txt"));
        Directory.CreateSymbolicLink(server.PathOf("away"), Neighbour(server, "outside", "missingdir"));
        await using var client = await server.ConnectReadyAsync(token);

        var last = await RequestAsync(client, operation, 1, "a/dangling", token);
        var middle = await RequestAsync(client, operation, 2, "gone/new", token);
        var lastOut = await RequestAsync(client, operation, 3, "a/nowhere", token);
        var middleOut = await RequestAsync(client, operation, 4, "away/new", token);

        FrameAssert.IsError(last, ErrorCode.AccessDenied, 1);
        FrameAssert.IsError(middle, ErrorCode.AccessDenied, 2);
        FrameAssert.IsError(lastOut, ErrorCode.AccessDenied, 3);
        FrameAssert.IsError(middleOut, ErrorCode.AccessDenied, 4);
        Assert.Equal("'a/dangling' is a symbolic link whose target does not exist", last.GetStringOrNull(FieldTag.Message));
        Assert.Equal("'gone/new' goes through 'gone', a symbolic link whose target does not exist", middle.GetStringOrNull(FieldTag.Message));
        Assert.Equal("'a/nowhere' leads outside the root through a symbolic link", lastOut.GetStringOrNull(FieldTag.Message));
        Assert.Equal("'away/new' leads outside the root through a symbolic link", middleOut.GetStringOrNull(FieldTag.Message));
        Assert.False(File.Exists(server.PathOf("missing.txt")));
        Assert.False(Directory.Exists(server.PathOf("missingdir")));
        await AssertStillServesAsync(client, 5, token);
        AssertNeighboursUntouched(server);
    }

    [Theory(Timeout = 30000)]
    [InlineData("mid/new.txt")]
    [InlineData("a/last")]
    [InlineData("a/dangling")]
    [InlineData("evil/new.txt")]
    [InlineData("backdoor/planted.part")]
    [InlineData("a/lastdir/new.txt")]
    public async Task A_ranged_put_is_refused_on_every_link_leading_out_with_the_put_s_answer(string path)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        var planted = Path.Combine(server.Store.StagingDirectory, "planted.part");
        await File.WriteAllTextAsync(planted, "staged", token);
        Directory.CreateSymbolicLink(server.PathOf("mid"), Neighbour(server, "outside"));
        Directory.CreateSymbolicLink(server.PathOf("evil"), Neighbour(server, "root-evil"));
        Directory.CreateSymbolicLink(server.PathOf("backdoor"), server.Store.StagingDirectory);
        Directory.CreateDirectory(server.PathOf("a"));
        File.CreateSymbolicLink(server.PathOf("a/last"), Neighbour(server, "outside", "secret.txt"));
        File.CreateSymbolicLink(server.PathOf("a/dangling"), server.PathOf("missing.txt"));
        Directory.CreateSymbolicLink(server.PathOf("a/lastdir"), Neighbour(server, "outside"));
        await using var client = await server.ConnectReadyAsync(token);

        var put = await RequestAsync(client, MessageType.Put, 1, path, token);
        await client.SendAsync(RangeMessages.Put(2, path, 1, HashAlgorithms.Sha256, [1, 2, 3], new FileRange(0, 1)), token);
        var ranged = await client.ReadAsync(token);

        FrameAssert.IsError(put, ErrorCode.AccessDenied, 1);
        FrameAssert.IsError(ranged, ErrorCode.AccessDenied, 2);
        Assert.Equal(put.GetStringOrNull(FieldTag.Message), ranged.GetStringOrNull(FieldTag.Message));
        Assert.Equal("staged", await File.ReadAllTextAsync(planted, token));
        await AssertStillServesAsync(client, 3, token);
        AssertNeighboursUntouched(server);
    }

    [Theory(Timeout = 30000)]
    [InlineData("bell\u0007.txt")]
    [InlineData("esc\u001b[31mred.txt")]
    [InlineData("new\nline.txt")]
    [InlineData("del\u007f.txt")]
    [InlineData("c1\u0085.txt")]
    [InlineData("dir/\u0001/x")]
    public async Task Names_with_control_characters_are_invalid_paths_and_logged_escaped(string path)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        await using var client = await server.ConnectReadyAsync(token);

        uint id = 1;
        foreach (var operation in Operations)
        {
            FrameAssert.IsError(await RequestAsync(client, operation, id, path, token), ErrorCode.InvalidPath, id);
            id++;
        }

        await AssertStillServesAsync(client, id, token);
        Assert.Equal([".filexfer"], Directory.GetFileSystemEntries(server.Store.Root).Select(Path.GetFileName));
        Assert.NotEmpty(server.Log.Entries);
        Assert.All(server.Log.Entries, entry => Assert.DoesNotContain(entry.Message, c => char.IsControl(c)));
    }

    [Theory(Timeout = 30000)]
    [InlineData(new byte[] { 0x61, 0xFF, 0x62 })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })]
    [InlineData(new byte[] { 0x61, 0xE2, 0x82 })]
    public async Task Invalid_UTF8_in_a_path_is_refused_never_replaced(byte[] pathBytes)
    {
        // Invalid UTF-8 breaks the string kind of the field, so the frame itself is invalid (docs/PROTOCOL.md,
        // Decoding rules): a protocol violation that closes the connection, and no file named with U+FFFD.
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendRawAsync(FrameWithPathBytes(MessageType.Put, 9, pathBytes, Field.Integer(FieldTag.Size, 0), Field.String(FieldTag.HashAlgorithm, HashAlgorithms.Sha256)), token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var frames = await client.ReadUntilClosedAsync(deadline.Token);

        FrameAssert.IsError(Assert.Single(frames), ErrorCode.ProtocolViolation, 0);
        Assert.Equal([".filexfer"], Directory.GetFileSystemEntries(server.Store.Root).Select(Path.GetFileName));
        await AssertServerAliveAsync(server, token);
    }

    [Fact(Timeout = 30000)]
    public async Task A_name_over_255_bytes_is_invalid_and_255_bytes_is_served()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        await using var client = await server.ConnectReadyAsync(token);

        // 128 two-byte characters: 256 bytes in only 128 characters, so the limit is on bytes.
        FrameAssert.IsError(await client.PutAsync(1, new string('é', 128), [1], token), ErrorCode.InvalidPath, 1);
        FrameAssert.IsError(await RequestAsync(client, MessageType.MakeDirectory, 2, "a/" + new string('x', 256), token), ErrorCode.InvalidPath, 2);
        FrameAssert.Is(await client.PutAsync(3, new string('x', 255), [1], token), MessageType.Ok, 3);
    }

    [Fact(Timeout = 30000)]
    public async Task A_path_deeper_than_64_components_is_invalid_and_64_is_served()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        await using var client = await server.ConnectReadyAsync(token);

        FrameAssert.IsError(await RequestAsync(client, MessageType.MakeDirectory, 1, string.Join('/', Enumerable.Repeat("d", 65)), token), ErrorCode.InvalidPath, 1);
        FrameAssert.IsError(await client.PutAsync(2, string.Join('/', Enumerable.Repeat("d", 65)), [1], token), ErrorCode.InvalidPath, 2);
        FrameAssert.Is(await client.PutAsync(3, string.Join('/', Enumerable.Repeat("d", 64)), [1], token), MessageType.Ok, 3);
        Assert.True(File.Exists(server.PathOf(string.Join('/', Enumerable.Repeat("d", 64)))));
    }

    [Fact(Timeout = 30000)]
    public async Task A_path_over_4096_bytes_is_refused_as_a_broken_frame()
    {
        // The codec limits the Path field to 4096 bytes, so the frame is invalid before any path rule runs.
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        await using var client = await server.ConnectReadyAsync(token);
        var path = Encoding.UTF8.GetBytes(string.Join('/', Enumerable.Repeat(new string('p', 63), 64)) + "/x");
        Assert.True(path.Length > ProtocolLimits.MaxPathBytes);

        await client.SendRawAsync(FrameWithPathBytes(MessageType.Stat, 4, path), token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));

        FrameAssert.IsError(Assert.Single(await client.ReadUntilClosedAsync(deadline.Token)), ErrorCode.ProtocolViolation, 0);
        await AssertServerAliveAsync(server, token);
    }

    [Theory(Timeout = 30000)]
    [InlineData(".filexfer")]
    [InlineData("/.filexfer")]
    [InlineData(".filexfer/")]
    [InlineData(".filexfer/staging")]
    [InlineData(".filexfer/staging/planted.part")]
    [InlineData("/.filexfer/staging/x")]
    [InlineData("a/../.filexfer/staging")]
    [InlineData("./.filexfer")]
    [InlineData(".filexfer\\staging")]
    public async Task The_staging_area_is_never_addressable(string path)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        var planted = Path.Combine(server.Store.StagingDirectory, "planted.part");
        await File.WriteAllTextAsync(planted, "staged", token);
        await using var client = await server.ConnectReadyAsync(token);

        uint id = 1;
        foreach (var operation in Operations)
        {
            FrameAssert.IsError(await RequestAsync(client, operation, id, path, token), ErrorCode.InvalidPath, id);
            id++;
        }

        Assert.Equal("staged", await File.ReadAllTextAsync(planted, token));
        await AssertStillServesAsync(client, id, token);
    }

    [Theory(Timeout = 30000)]
    [MemberData(nameof(Operations))]
    public async Task A_link_inside_the_root_that_leads_into_the_staging_area_is_refused(MessageType operation)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        var planted = Path.Combine(server.Store.StagingDirectory, "planted.part");
        await File.WriteAllTextAsync(planted, "staged", token);
        Directory.CreateSymbolicLink(server.PathOf("backdoor"), server.Store.StagingDirectory);
        await using var client = await server.ConnectReadyAsync(token);

        var path = operation is MessageType.List or MessageType.MakeDirectory ? "backdoor" : "backdoor/planted.part";
        FrameAssert.IsError(await RequestAsync(client, operation, 1, path, token), ErrorCode.AccessDenied, 1);

        Assert.Equal("staged", await File.ReadAllTextAsync(planted, token));
        await AssertStillServesAsync(client, 2, token);
    }

    [Fact(Timeout = 30000)]
    public async Task The_staging_area_is_left_out_of_listings_of_the_root_recursive_too()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        await File.WriteAllTextAsync(Path.Combine(server.Store.StagingDirectory, "x.part"), "staged", token);
        Directory.CreateDirectory(server.PathOf("d"));
        await File.WriteAllTextAsync(server.PathOf("d/f.txt"), "f", token);
        await using var client = await server.ConnectReadyAsync(token);

        var flat = await ListNamesAsync(client, 1, ListFlags.None, token);
        var tree = await ListNamesAsync(client, 2, ListFlags.Recursive, token);

        Assert.Equal(["d"], flat);
        Assert.Equal(["d", "d/f.txt"], tree);
    }

    // Time-of-check to time-of-use: a local user swaps a checked component for a link between the server's
    // check and its use. FileStore.BeforeUse runs exactly there.

    [Fact(Timeout = 30000)]
    public async Task A_file_swapped_for_a_link_after_the_check_is_not_read()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        var file = server.PathOf("f.txt");
        await File.WriteAllTextAsync(file, "inside", token);
        server.Store.BeforeUse = _ => SwapForLink(file, Neighbour(server, "outside", "secret.txt"));
        await using var client = await server.ConnectReadyAsync(token);

        FrameAssert.IsError(await RequestAsync(client, MessageType.Get, 1, "f.txt", token), ErrorCode.AccessDenied, 1);
        server.Store.BeforeUse = _ => { };
        FrameAssert.IsError(await RequestAsync(client, MessageType.Hash, 2, "f.txt", token), ErrorCode.AccessDenied, 2);
    }

    [Fact(Timeout = 30000)]
    public async Task A_directory_swapped_for_a_link_after_the_check_receives_no_upload()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        var directory = server.PathOf("d");
        Directory.CreateDirectory(directory);
        server.Store.BeforeUse = path => { if (path == "d/new.txt") { SwapForLink(directory, Neighbour(server, "outside")); } };
        await using var client = await server.ConnectReadyAsync(token);

        var answer = await client.PutAsync(1, "d/new.txt", "planted"u8.ToArray(), token);

        FrameAssert.IsError(answer, ErrorCode.AccessDenied, 1);
        Assert.False(File.Exists(Neighbour(server, "outside", "new.txt")));
        AssertNeighboursUntouched(server);
    }

    [Fact(Timeout = 30000)]
    public async Task A_directory_swapped_for_a_link_before_a_ranged_put_is_named_receives_no_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        var directory = server.PathOf("d");
        Directory.CreateDirectory(directory);
        await using var client = await server.ConnectReadyAsync(token);
        var content = "planted"u8.ToArray();
        var hash = System.Security.Cryptography.SHA256.HashData(content);
        byte[] transfer = [4, 5, 6];

        await client.SendAsync(RangeMessages.Put(1, "d/new.txt", content.Length, HashAlgorithms.Sha256, transfer, new FileRange(0, content.Length)), token);
        await client.ReadAsync(MessageType.Ready, token);
        await client.SendAsync(Messages.ResumeFrom(1, 0), token);
        await client.SendRawAsync(content, token);
        await client.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, hash), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 1);

        // The Assemble checks the destination, then its publish checks it again: the swap comes between.
        server.Store.BeforeUse = path => { if (path == "d/new.txt") { SwapForLink(directory, Neighbour(server, "outside")); } };
        await client.SendAsync(RangeMessages.Assemble(2, "d/new.txt", content.Length, HashAlgorithms.Sha256, transfer, hash, null, null), token);

        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.AccessDenied, 2);
        Assert.False(File.Exists(Neighbour(server, "outside", "new.txt")));
        AssertNeighboursUntouched(server);
    }

    [Fact(Timeout = 30000)]
    public async Task A_directory_swapped_for_a_link_after_the_check_is_not_listed_or_deleted_from()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        var directory = server.PathOf("d");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "secret.txt"), "inside", token);
        server.Store.BeforeUse = _ => SwapForLink(directory, Neighbour(server, "outside"));
        await using var client = await server.ConnectReadyAsync(token);

        FrameAssert.IsError(await RequestAsync(client, MessageType.List, 1, "d", token), ErrorCode.AccessDenied, 1);
        server.Store.BeforeUse = null;
        Directory.Delete(directory);
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "secret.txt"), "inside", token);
        server.Store.BeforeUse = _ => SwapForLink(directory, Neighbour(server, "outside"));
        FrameAssert.IsError(await RequestAsync(client, MessageType.Delete, 2, "d/secret.txt", token), ErrorCode.AccessDenied, 2);

        AssertNeighboursUntouched(server);
    }

    [Fact(Timeout = 30000)]
    public async Task A_directory_swapped_for_a_link_after_the_check_gets_no_new_directory()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = StartWithNeighbours();
        var directory = server.PathOf("d");
        Directory.CreateDirectory(directory);
        server.Store.BeforeUse = path => { if (path == "d/new") { SwapForLink(directory, Neighbour(server, "outside")); } };
        await using var client = await server.ConnectReadyAsync(token);

        FrameAssert.IsError(await RequestAsync(client, MessageType.MakeDirectory, 1, "d/new/deeper", token), ErrorCode.AccessDenied, 1);

        Assert.False(Directory.Exists(Neighbour(server, "outside", "new")));
    }

    private static TestServer StartWithNeighbours()
    {
        var server = new TestServer();
        var parent = Path.GetDirectoryName(server.Store.Root)!;
        foreach (var name in new[] { "outside", "root-evil" })
        {
            Directory.CreateDirectory(Path.Combine(parent, name));
            File.WriteAllText(Path.Combine(parent, name, "secret.txt"), $"{name} secret");
        }

        return server;
    }

    private static string Neighbour(TestServer server, params string[] parts) =>
        Path.Combine([Path.GetDirectoryName(server.Store.Root)!, .. parts]);

    private static void AssertNeighboursUntouched(TestServer server)
    {
        foreach (var name in new[] { "outside", "root-evil" })
        {
            Assert.Equal(["secret.txt"], Directory.GetFileSystemEntries(Neighbour(server, name)).Select(Path.GetFileName));
            Assert.Equal($"{name} secret", File.ReadAllText(Neighbour(server, name, "secret.txt")));
        }
    }

    private static void SwapForLink(string path, string target)
    {
        if (Directory.Exists(path) && new FileInfo(path).LinkTarget is null)
        {
            Directory.Delete(path, recursive: true);
            Directory.CreateSymbolicLink(path, target);
        }
        else if (File.Exists(path) && new FileInfo(path).LinkTarget is null)
        {
            File.Delete(path);
            File.CreateSymbolicLink(path, target);
        }
    }

    /// <summary>Sends one request on <paramref name="path"/> and returns the server's first answer to it.</summary>
    private static async Task<Frame> RequestAsync(RawClient client, MessageType operation, uint id, string path, CancellationToken cancellationToken)
    {
        if (operation == MessageType.Put)
        {
            // Refused before Ready, so no body is owed; an accepted put gets its empty body.
            var first = await client.StartPutAsync(id, path, 0, cancellationToken);
            if (first.Type != MessageType.Ready)
            {
                return first;
            }

            await client.SendAsync(Messages.BodyEnd(id, HashAlgorithms.Sha256, System.Security.Cryptography.SHA256.HashData(ReadOnlySpan<byte>.Empty)), cancellationToken);
            return await client.ReadAsync(cancellationToken);
        }

        var request = operation switch
        {
            MessageType.Get => Messages.Get(id, path, HashAlgorithms.Sha256),
            MessageType.Hash => Messages.Hash(id, path, HashAlgorithms.Sha256),
            MessageType.List => Messages.List(id, path, ListFlags.None),
            MessageType.MakeDirectory => Messages.MakeDirectory(id, path, null, null),
            _ => Messages.PathRequest(operation, id, path),
        };
        await client.SendAsync(request, cancellationToken);
        var answer = await client.ReadAsync(cancellationToken);
        if (answer.Type == MessageType.Data)
        {
            await client.ReadBodyAsync(answer.GetSize(FieldTag.Size), cancellationToken);
            await client.ReadAsync(MessageType.BodyEnd, cancellationToken);
        }
        else if (answer.Type == MessageType.Entry)
        {
            while ((await client.ReadAsync(cancellationToken)).Type == MessageType.Entry)
            {
            }
        }

        return answer;
    }

    private static async Task<List<string>> ListNamesAsync(RawClient client, uint id, ListFlags flags, CancellationToken cancellationToken)
    {
        await client.SendAsync(Messages.List(id, "/", flags), cancellationToken);
        var names = new List<string>();
        Frame frame;
        while ((frame = await client.ReadAsync(cancellationToken)).Type == MessageType.Entry)
        {
            names.Add(Messages.ReadEntry(frame).Name);
        }

        FrameAssert.Is(frame, MessageType.EndOfList, id);
        return names;
    }

    private static async Task AssertStillServesAsync(RawClient client, uint id, CancellationToken cancellationToken)
    {
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, id, "/"), cancellationToken);
        FrameAssert.Is(await client.ReadAsync(cancellationToken), MessageType.Ok, id);
    }

    private static async Task AssertServerAliveAsync(TestServer server, CancellationToken cancellationToken)
    {
        await using var next = await server.ConnectReadyAsync(cancellationToken);
        await AssertStillServesAsync(next, 1, cancellationToken);
    }

    /// <summary>A frame whose Path field holds raw bytes, which the codec would refuse to write.</summary>
    private static byte[] FrameWithPathBytes(MessageType type, uint requestId, byte[] path, params Field[] more)
    {
        var rest = FrameCodec.ToArray(new Frame(type, requestId, more));
        var frame = new byte[rest.Length + ProtocolLimits.FieldHeaderBytes + path.Length];
        rest.AsSpan(0, 10).CopyTo(frame);
        frame[10] = (byte)FieldTag.Path;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(11), (ushort)path.Length);
        path.CopyTo(frame, 13);
        rest.AsSpan(10).CopyTo(frame.AsSpan(13 + path.Length));
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)(frame.Length - ProtocolLimits.LengthPrefixBytes));
        return frame;
    }
}
