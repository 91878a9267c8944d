using System.Security.Cryptography;
using System.Text;
using FileXfer.Platform;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Storage;

/// <summary>
/// The directory handles a connection keeps between the files of one directory (<see cref="DirectoryHandles"/>): the
/// files land where their path leads now, and a kept handle is never trusted once its directory was moved, deleted or
/// swapped for a link, between two files of a connection or inside one commit group.
/// </summary>
public sealed class DirectoryHandleTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    private FileStore Store => _fixture.Store;

    public void Dispose() => _fixture.Dispose();

    [Fact(Timeout = 30000)]
    public async Task Files_of_one_directory_share_one_kept_handle_and_land_in_place()
    {
        var token = TestContext.Current.CancellationToken;
        using var handles = new DirectoryHandles();

        Assert.Null(await CommitAsync(handles, "d/a.txt", "a", token));
        Assert.Equal(1, handles.Count);
        Assert.Null(await CommitAsync(handles, "d/b.txt", "b", token));
        Assert.Null(await CommitAsync(handles, "top.txt", "top", token));

        Assert.Equal(2, handles.Count);
        Assert.Equal("a", File.ReadAllText(_fixture.Local("d/a.txt")));
        Assert.Equal("b", File.ReadAllText(_fixture.Local("d/b.txt")));
        Assert.Equal("top", File.ReadAllText(_fixture.Local("top.txt")));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
    }

    [Fact(Timeout = 30000)]
    public async Task A_kept_directory_moved_out_of_the_root_and_replaced_by_a_link_receives_no_later_file()
    {
        var token = TestContext.Current.CancellationToken;
        // The kept handle still works after the move, and now leads outside: only its location check stops it.
        using var handles = new DirectoryHandles();
        Assert.Null(await CommitAsync(handles, "d/a.txt", "a", token));
        var moved = Path.Combine(_fixture.Outside, "moved");
        MoveOutAndLink(_fixture.Local("d"), moved);

        var failure = await CommitAsync(handles, "d/b.txt", "planted", token);

        Assert.Equal(ErrorCode.AccessDenied, failure?.Code);
        Assert.Equal(["a.txt"], Directory.GetFiles(moved).Select(Path.GetFileName));
        Assert.Equal(["moved", "secret.txt"], Directory.GetFileSystemEntries(_fixture.Outside).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
    }

    [Fact(Timeout = 30000)]
    public async Task A_kept_directory_moved_out_between_the_check_and_the_rename_of_a_group_receives_nothing_more()
    {
        var token = TestContext.Current.CancellationToken;
        using var handles = new DirectoryHandles();
        Assert.Null(await CommitAsync(handles, "d/first.txt", "kept", token));
        var moved = Path.Combine(_fixture.Outside, "moved");
        Store.BeforeUse = path =>
        {
            if (path == "d/b.txt")
            {
                MoveOutAndLink(_fixture.Local("d"), moved);
            }
        };

        var a = await SealAsync(handles, "d/a.txt", "a", token);
        var b = await SealAsync(handles, "d/b.txt", "planted", token);
        var results = await GroupCommit.CommitAsync([a, b]);

        // a was renamed into d before d was moved away; b found its directory's handle elsewhere and was refused.
        Assert.Null(results[0]);
        Assert.Equal(ErrorCode.AccessDenied, results[1]?.Code);
        Assert.Equal(["a.txt", "first.txt"], Directory.GetFiles(moved).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
    }

    [Fact(Timeout = 30000)]
    public async Task A_kept_directory_renamed_inside_the_root_is_not_written_through_its_old_name()
    {
        var token = TestContext.Current.CancellationToken;
        using var handles = new DirectoryHandles();
        Assert.Null(await CommitAsync(handles, "d/a.txt", "a", token));
        Directory.Move(_fixture.Local("d"), _fixture.Local("renamed"));
        Directory.CreateDirectory(_fixture.Local("d"));

        Assert.Null(await CommitAsync(handles, "d/b.txt", "b", token));

        Assert.Equal("b", File.ReadAllText(_fixture.Local("d/b.txt")));
        Assert.False(File.Exists(_fixture.Local("renamed/b.txt")));
    }

    [Fact(Timeout = 30000)]
    public async Task A_kept_directory_renamed_inside_the_root_within_a_group_keeps_each_file_where_it_was_named()
    {
        // The first file is named in the kept directory, which is then renamed away and made again: the second file goes
        // to the new directory by its path, and the group syncs both directories.
        var token = TestContext.Current.CancellationToken;
        using var handles = new DirectoryHandles();
        Assert.Null(await CommitAsync(handles, "d/first.txt", "first", token));
        Store.BeforeUse = path =>
        {
            if (path == "d/b.txt")
            {
                Directory.Move(_fixture.Local("d"), _fixture.Local("renamed"));
                Directory.CreateDirectory(_fixture.Local("d"));
            }
        };

        var a = await SealAsync(handles, "d/a.txt", "a", token);
        var b = await SealAsync(handles, "d/b.txt", "b", token);

        Assert.Equal([null, null], await GroupCommit.CommitAsync([a, b]));
        Assert.Equal("a", await File.ReadAllTextAsync(_fixture.Local("renamed/a.txt"), token));
        Assert.Equal("b", await File.ReadAllTextAsync(_fixture.Local("d/b.txt"), token));
        Assert.Equal(["b.txt"], Directory.GetFileSystemEntries(_fixture.Local("d")).Select(Path.GetFileName));
    }

    [Fact(Timeout = 30000)]
    public async Task A_kept_directory_deleted_is_created_again_for_the_next_file()
    {
        var token = TestContext.Current.CancellationToken;
        using var handles = new DirectoryHandles();
        Assert.Null(await CommitAsync(handles, "d/e/a.txt", "a", token));
        Directory.Delete(_fixture.Local("d"), recursive: true);

        Assert.Null(await CommitAsync(handles, "d/e/b.txt", "b", token));

        Assert.Equal("b", File.ReadAllText(_fixture.Local("d/e/b.txt")));
    }

    [Fact(Timeout = 30000)]
    public async Task A_directory_removed_while_an_upload_arrives_is_made_again_when_it_is_published()
    {
        var token = TestContext.Current.CancellationToken;
        using var handles = new DirectoryHandles();
        Assert.Null(await CommitAsync(handles, "d/e/a.txt", "a", token));
        var upload = await SealAsync(handles, "d/e/b.txt", "b", token);
        Directory.Delete(_fixture.Local("d"), recursive: true);

        Assert.Null((await GroupCommit.CommitAsync([upload]))[0]);

        Assert.Equal("b", await File.ReadAllTextAsync(_fixture.Local("d/e/b.txt"), token));
    }

    [Fact(Timeout = 30000)]
    public async Task A_kept_directory_whose_file_name_became_a_directory_or_a_link_is_decided_by_the_full_walk()
    {
        var token = TestContext.Current.CancellationToken;
        using var handles = new DirectoryHandles();
        Assert.Null(await CommitAsync(handles, "d/a.txt", "a", token));
        Directory.CreateDirectory(_fixture.Local("d/sub"));
        File.CreateSymbolicLink(_fixture.Local("d/out"), Path.Combine(_fixture.Outside, "secret.txt"));

        Assert.Equal(ErrorCode.IsADirectory, Assert.Throws<FileXferException>(() => Store.BeginUpload("d/sub", 1, 1, resumeKey: null, handles)).Code);
        Assert.Equal(ErrorCode.AccessDenied, Assert.Throws<FileXferException>(() => Store.BeginUpload("d/out", 1, 1, resumeKey: null, handles)).Code);
        Assert.Equal("outside secret", File.ReadAllText(Path.Combine(_fixture.Outside, "secret.txt")));
    }

    [Fact(Timeout = 30000)]
    public async Task The_reserved_folder_is_refused_whatever_is_kept()
    {
        var token = TestContext.Current.CancellationToken;
        using var handles = new DirectoryHandles();
        Assert.Null(await CommitAsync(handles, "top.txt", "top", token));

        Assert.Equal(ErrorCode.InvalidPath, Assert.Throws<FileXferException>(() => Store.BeginUpload(".filexfer", 1, 1, resumeKey: null, handles)).Code);
        Assert.Equal(ErrorCode.InvalidPath, Assert.Throws<FileXferException>(() => Store.BeginUpload(".filexfer/staging/x.part", 1, 1, resumeKey: null, handles)).Code);
    }

    [Fact(Timeout = 30000)]
    public async Task Over_one_connection_a_directory_swapped_for_a_link_between_two_puts_receives_no_upload()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var outside = Path.Combine(Path.GetDirectoryName(server.Store.Root)!, "outside");
        await using var client = await server.ConnectReadyAsync(token);

        FrameAssert.Is(await client.PutAsync(1, "d/a.txt", "a"u8.ToArray(), token), MessageType.Ok, 1);
        MoveOutAndLink(server.PathOf("d"), outside);
        var answer = await client.PutAsync(2, "d/b.txt", "planted"u8.ToArray(), token);

        FrameAssert.IsError(answer, ErrorCode.AccessDenied, 2);
        Assert.Equal(["a.txt"], Directory.GetFiles(outside).Select(Path.GetFileName));
    }

    [Fact(Timeout = 30000)]
    public async Task In_one_pipelined_group_a_directory_moved_out_before_a_rename_receives_nothing_more()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var outside = Path.Combine(Path.GetDirectoryName(server.Store.Root)!, "outside");
        await using var client = await server.ConnectReadyAsync(token);
        FrameAssert.Is(await client.PutAsync(1, "d/first.txt", "first"u8.ToArray(), token), MessageType.Ok, 1);
        server.Store.BeforeUse = path =>
        {
            if (path == "d/c.txt")
            {
                MoveOutAndLink(server.PathOf("d"), outside);
            }
        };

        // Three puts sent at once, without waiting: committed as one group.
        await client.SendRawAsync(NoWaitPuts((2, "d/a.txt", "a"), (3, "d/b.txt", "b"), (4, "d/c.txt", "c")), token);

        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 2);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 3);
        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.AccessDenied, 4);
        Assert.Equal(["a.txt", "b.txt", "first.txt"], Directory.GetFiles(outside).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 30000)]
    public async Task An_upload_into_a_kept_directory_has_no_name_until_it_is_published_and_replaces_the_old_file_whole()
    {
        var token = TestContext.Current.CancellationToken;
        using var handles = new DirectoryHandles();
        Assert.Null(await CommitAsync(handles, "d/a.txt", "old", token));
        var before = Directory.GetFileSystemEntries(_fixture.Local("d"));

        var upload = await SealAsync(handles, "d/a.txt", "new content", token);

        Assert.Null(upload.TempPath);
        Assert.Equal(before, Directory.GetFileSystemEntries(_fixture.Local("d")));
        Assert.Equal("old", await File.ReadAllTextAsync(_fixture.Local("d/a.txt"), token));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
        Assert.Null((await GroupCommit.CommitAsync([upload]))[0]);
        Assert.Equal("new content", await File.ReadAllTextAsync(_fixture.Local("d/a.txt"), token));
        Assert.Equal(before, Directory.GetFileSystemEntries(_fixture.Local("d")));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
    }

    [Fact(Timeout = 30000)]
    public async Task An_unnamed_upload_that_is_not_committed_leaves_nothing()
    {
        var token = TestContext.Current.CancellationToken;
        using var handles = new DirectoryHandles();
        Assert.Null(await CommitAsync(handles, "d/a.txt", "a", token));

        await using (var upload = await SealAsync(handles, "d/b.txt", "b", token))
        {
            Assert.Null(upload.TempPath);
        }

        Assert.Equal(["a.txt"], Directory.GetFileSystemEntries(_fixture.Local("d")).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
    }

    [Fact(Timeout = 30000)]
    public async Task Pipelined_puts_onto_a_directory_or_a_link_in_a_kept_directory_are_refused_when_published()
    {
        // A pipelined put's destination is looked at only when it is published: the answers are those of a put that
        // waits for Ready, and nothing is written through the link.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var outside = Path.Combine(Path.GetDirectoryName(server.Store.Root)!, "outside");
        Directory.CreateDirectory(outside);
        await File.WriteAllTextAsync(Path.Combine(outside, "secret.txt"), "outside secret", token);
        await using var client = await server.ConnectReadyAsync(token);
        FrameAssert.Is(await client.PutAsync(1, "d/first.txt", "first"u8.ToArray(), token), MessageType.Ok, 1);
        Directory.CreateDirectory(server.PathOf("d/sub"));
        File.CreateSymbolicLink(server.PathOf("d/out"), Path.Combine(outside, "secret.txt"));
        await File.WriteAllTextAsync(server.PathOf("d/old.txt"), "old", token);

        await client.SendRawAsync(
            NoWaitPuts((2, "d/sub", "sub body"), (3, "d/out", "out body"), (4, "d/old.txt", "old.txt body"), (5, "d/new.txt", "new.txt body")),
            token);

        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.IsADirectory, 2);
        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.AccessDenied, 3);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 4);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 5);
        Assert.Equal("outside secret", await File.ReadAllTextAsync(Path.Combine(outside, "secret.txt"), token));
        Assert.Equal(["secret.txt"], Directory.GetFileSystemEntries(outside).Select(Path.GetFileName));
        Assert.Equal("old.txt body", await File.ReadAllTextAsync(server.PathOf("d/old.txt"), token));
        Assert.Equal("new.txt body", await File.ReadAllTextAsync(server.PathOf("d/new.txt"), token));
        Assert.True(Directory.Exists(server.PathOf("d/sub")));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 30000)]
    public async Task Past_its_capacity_the_cache_starts_over_and_every_file_still_lands()
    {
        var token = TestContext.Current.CancellationToken;
        using var handles = new DirectoryHandles();
        for (int i = 0; i < DirectoryHandles.Capacity + 4; i++)
        {
            Assert.Null(await CommitAsync(handles, $"d{i:00}/f.txt", $"{i}", token));
            Assert.InRange(handles.Count, 1, DirectoryHandles.Capacity);
        }

        for (int i = 0; i < DirectoryHandles.Capacity + 4; i++)
        {
            Assert.Equal($"{i}", await File.ReadAllTextAsync(_fixture.Local($"d{i:00}/f.txt"), token));
        }
    }

    [Fact]
    public void A_handle_is_forgotten_once_its_directory_moved()
    {
        var directory = Directory.CreateDirectory(_fixture.Local("d")).FullName;
        using var handles = new DirectoryHandles();
        var handle = Posix.OpenDirectory(directory);
        Assert.True(handles.Keep("d", handle, directory, evict: true));

        Assert.Same(handle, handles.Find("d", out _));
        Directory.Move(directory, _fixture.Local("e"));

        Assert.Null(handles.Find("d", out _));
        Assert.Equal(0, handles.Count);
        Assert.True(handle.IsClosed);
    }

    // Puts that do not wait for Ready, each with its whole body and BodyEnd, as one pipelined stream of bytes.
    private static byte[] NoWaitPuts(params (uint Id, string Path, string Content)[] puts)
    {
        var bytes = new List<byte>();
        foreach (var (id, path, content) in puts)
        {
            var body = Encoding.UTF8.GetBytes(content);
            bytes.AddRange(FrameCodec.ToArray(Messages.Put(id, path, body.Length, HashAlgorithms.Sha256, null, null, PutFlags.NoWait)));
            bytes.AddRange(body);
            bytes.AddRange(FrameCodec.ToArray(Messages.BodyEnd(id, HashAlgorithms.Sha256, SHA256.HashData(body))));
        }

        return [.. bytes];
    }

    /// <summary>Moves <paramref name="directory"/> to <paramref name="destination"/> (outside the root) and leaves a link to it in its place.</summary>
    private static void MoveOutAndLink(string directory, string destination)
    {
        Directory.Move(directory, destination);
        Directory.CreateSymbolicLink(directory, destination);
    }

    private async Task<PendingUpload> SealAsync(DirectoryHandles handles, string path, string content, CancellationToken token)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        var upload = Store.BeginUpload(path, bytes.Length, bytes.Length, resumeKey: null, handles);
        await upload.Body.WriteAsync(bytes, token);
        upload.Seal(bytes.Length, SHA256.HashData(bytes), SHA256.HashData(bytes), modified: null, mode: null, algorithm: null);
        return upload;
    }

    private async Task<FileXferException?> CommitAsync(DirectoryHandles handles, string path, string content, CancellationToken token)
    {
        PendingUpload upload;
        try
        {
            upload = await SealAsync(handles, path, content, token);
        }
        catch (FileXferException ex)
        {
            return ex;
        }

        return (await GroupCommit.CommitAsync([upload]))[0];
    }
}
