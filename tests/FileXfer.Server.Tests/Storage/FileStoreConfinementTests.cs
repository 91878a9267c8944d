using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Storage;

/// <summary>Every remote path stays inside the root: traversal, reserved names and symbolic links.</summary>
public sealed class FileStoreConfinementTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    private FileStore Store => _fixture.Store;

    public void Dispose() => _fixture.Dispose();

    [Theory]
    [InlineData("..")]
    [InlineData("../secret.txt")]
    [InlineData("../outside/secret.txt")]
    [InlineData("a/../../outside/secret.txt")]
    [InlineData("/../outside/secret.txt")]
    [InlineData("a/..")]
    [InlineData("./a")]
    [InlineData("a/./b")]
    public void Dot_and_dot_dot_components_are_invalid_everywhere(string path)
    {
        _fixture.Write("a/b", "inside");

        AllRefuse(path, ErrorCode.InvalidPath);
        Assert.Equal("outside secret", File.ReadAllText(Path.Combine(_fixture.Outside, "secret.txt")));
    }

    [Theory]
    [InlineData("a\\b")]
    [InlineData("..\\outside\\secret.txt")]
    [InlineData("\\etc\\passwd")]
    [InlineData("C:")]
    [InlineData("C:/Windows")]
    [InlineData("a//b")]
    [InlineData("//etc/passwd")]
    [InlineData("a\0b")]
    [InlineData("a\nb")]
    public void Backslashes_drives_empty_components_and_control_characters_are_invalid(string path)
    {
        AllRefuse(path, ErrorCode.InvalidPath);
    }

    [Fact]
    public void A_leading_slash_means_the_root_not_the_server_file_system()
    {
        _fixture.Write("etc/passwd", "the store's own file");

        var entry = Store.Stat("/etc/passwd");
        using var stream = Store.OpenRead("/etc/passwd", out _);
        using var reader = new StreamReader(stream);

        Assert.Equal("etc/passwd", entry.Name);
        Assert.Equal("the store's own file", reader.ReadToEnd());
    }

    [Fact]
    public void The_absolute_path_of_a_file_resolves_under_the_root_again()
    {
        var local = _fixture.Write("a.txt", "x");
        Assert.True(Path.IsPathRooted(local));

        // "/tmp/.../data/a.txt" is the remote path "tmp/.../data/a.txt": under the root, and not there.
        StoreAssert.Fails(ErrorCode.NotFound, () => Store.Stat(local));
        StoreAssert.Fails(ErrorCode.NotFound, () => Store.Stat(Path.Combine(_fixture.Outside, "secret.txt")));
        Assert.Equal(Path.Combine(Store.Root, local.TrimStart('/')), Store.Resolve(RemotePathOf(local)));
    }

    [Theory]
    [InlineData(".filexfer")]
    [InlineData("/.filexfer")]
    [InlineData(".filexfer/")]
    [InlineData(".filexfer/staging")]
    [InlineData(".filexfer/staging/x.part")]
    public void The_reserved_folder_cannot_be_named(string path)
    {
        var staged = Path.Combine(Store.StagingDirectory, "x.part");
        File.WriteAllText(staged, "partial");

        AllRefuse(path, ErrorCode.InvalidPath);
        Assert.True(File.Exists(staged));
        Assert.True(Directory.Exists(Store.StagingDirectory));
    }

    [Fact]
    public void The_root_listing_hides_the_reserved_folder()
    {
        _fixture.Write("visible.txt", "x");
        Assert.True(Directory.Exists(Path.Combine(Store.Root, FileStore.ReservedName)));

        var names = Store.ListEntries("/").Select(e => e.Name).ToArray();

        Assert.Equal(["visible.txt"], names);
    }

    [Fact]
    public void A_link_to_a_file_outside_the_root_is_refused()
    {
        File.CreateSymbolicLink(_fixture.Local("link"), Path.Combine(_fixture.Outside, "secret.txt"));

        AllRefuse("link", ErrorCode.AccessDenied);
        Assert.Equal("outside secret", File.ReadAllText(Path.Combine(_fixture.Outside, "secret.txt")));
        Assert.NotNull(new FileInfo(_fixture.Local("link")).LinkTarget);
    }

    [Fact]
    public void A_link_to_a_directory_outside_the_root_is_refused_itself_and_as_an_intermediate_component()
    {
        Directory.CreateSymbolicLink(_fixture.Local("link"), _fixture.Outside);

        AllRefuse("link", ErrorCode.AccessDenied);
        AllRefuse("link/secret.txt", ErrorCode.AccessDenied);
        AllRefuse("link/new/deeper.txt", ErrorCode.AccessDenied);
        Assert.Equal("outside secret", File.ReadAllText(Path.Combine(_fixture.Outside, "secret.txt")));
        Assert.Equal(["secret.txt"], Directory.GetFileSystemEntries(_fixture.Outside).Select(Path.GetFileName));
    }

    [Fact]
    public void A_link_deeper_in_the_tree_to_outside_is_refused()
    {
        Directory.CreateDirectory(_fixture.Local("a/b"));
        Directory.CreateSymbolicLink(_fixture.Local("a/b/up"), "../../../outside");

        AllRefuse("a/b/up/secret.txt", ErrorCode.AccessDenied);
        AllRefuse("a/b/up", ErrorCode.AccessDenied);
    }

    [Fact]
    public void A_dangling_link_is_refused_and_nothing_is_created_where_it_points()
    {
        var target = _fixture.Beside("nowhere.txt");
        File.CreateSymbolicLink(_fixture.Local("dangling"), target);

        // Its target is outside the root: that it does not exist there is none of the client's business.
        AllRefuse("dangling", ErrorCode.AccessDenied, "'dangling' leads outside the root through a symbolic link");
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void A_dangling_link_that_would_point_inside_the_root_is_refused_too_and_told_as_dangling()
    {
        File.CreateSymbolicLink(_fixture.Local("dangling"), "missing.txt");
        Directory.CreateSymbolicLink(_fixture.Local("gone"), "missing-dir");

        AllRefuse("dangling", ErrorCode.AccessDenied, "'dangling' is a symbolic link whose target does not exist");
        AllRefuse("gone/f.txt", ErrorCode.AccessDenied, "'gone/f.txt' goes through 'gone', a symbolic link whose target does not exist");
        Assert.False(File.Exists(_fixture.Local("missing.txt")));
        Assert.False(Directory.Exists(_fixture.Local("missing-dir")));
    }

    [Fact]
    public void A_sibling_whose_name_starts_with_the_root_name_is_outside()
    {
        Assert.StartsWith(Store.Root, _fixture.Sibling, StringComparison.Ordinal);
        File.CreateSymbolicLink(_fixture.Local("evil-file"), Path.Combine(_fixture.Sibling, "secret.txt"));
        Directory.CreateSymbolicLink(_fixture.Local("evil-dir"), _fixture.Sibling);

        AllRefuse("evil-file", ErrorCode.AccessDenied);
        AllRefuse("evil-dir", ErrorCode.AccessDenied);
        AllRefuse("evil-dir/secret.txt", ErrorCode.AccessDenied);
        Assert.False(Store.IsInsideRoot(_fixture.Sibling));
        Assert.False(Store.IsInsideRoot(Path.Combine(_fixture.Sibling, "secret.txt")));
        Assert.True(Store.IsInsideRoot(Store.Root));
        Assert.True(Store.IsInsideRoot(Path.Combine(Store.Root, "x")));
    }

    [Fact]
    public void A_link_to_a_file_inside_the_root_is_followed_and_described_by_its_target()
    {
        _fixture.Write("real/file.txt", "inside content");
        File.CreateSymbolicLink(_fixture.Local("link.txt"), "real/file.txt");

        using (var stream = Store.OpenRead("link.txt", out var opened))
        using (var reader = new StreamReader(stream))
        {
            Assert.Equal("inside content", reader.ReadToEnd());
            Assert.Equal(EntryKind.File, opened.Kind);
        }

        var entry = Store.Stat("link.txt");
        var listed = Store.ListEntries("").Single(e => e.Name == "link.txt");

        Assert.Equal(EntryKind.File, entry.Kind);
        Assert.Equal("inside content".Length, entry.Size);
        Assert.Equal(EntryKind.File, listed.Kind);
        Assert.Equal("inside content".Length, listed.Size);
    }

    [Fact]
    public async Task A_link_to_a_directory_inside_the_root_can_be_listed_read_and_written_through()
    {
        _fixture.Write("real/file.txt", "inside content");
        Directory.CreateSymbolicLink(_fixture.Local("alias"), "real");

        var entries = Store.ListEntries("alias");
        var stat = Store.Stat("alias");
        await using (var upload = Store.BeginUpload("alias/new.txt", 3, 3))
        {
            await upload.Body.WriteAsync("new"u8.ToArray(), TestContext.Current.CancellationToken);
            var hash = SHA256.HashData("new"u8);
            await upload.CommitAsync(upload.Body.Length, hash, hash, modified: null, mode: null, TestContext.Current.CancellationToken);
        }

        Assert.Equal(["file.txt"], entries.Select(e => e.Name));
        Assert.Equal(EntryKind.Directory, stat.Kind);
        Assert.Equal("new", File.ReadAllText(_fixture.Local("real/new.txt")));
    }

    [Fact]
    public void A_listing_names_links_that_lead_outside_without_describing_their_targets()
    {
        File.CreateSymbolicLink(_fixture.Local("out-file"), Path.Combine(_fixture.Outside, "secret.txt"));
        Directory.CreateSymbolicLink(_fixture.Local("out-dir"), _fixture.Outside);
        File.CreateSymbolicLink(_fixture.Local("dangling"), _fixture.Beside("nowhere"));

        var entries = Store.ListEntries("/");

        Assert.Equal(["dangling", "out-dir", "out-file"], entries.Select(e => e.Name));
        Assert.All(entries, e => Assert.Equal((EntryKind.Other, 0L, (int?)null), (e.Kind, e.Size, e.Mode)));
    }

    [Fact]
    public void Deleting_a_link_inside_the_root_removes_the_link_not_its_target()
    {
        _fixture.Write("real/file.txt", "kept");
        File.CreateSymbolicLink(_fixture.Local("link.txt"), "real/file.txt");
        Directory.CreateSymbolicLink(_fixture.Local("alias"), "real");

        Store.Delete("link.txt");
        Store.Delete("alias");

        Assert.False(Path.Exists(_fixture.Local("link.txt")));
        Assert.False(Path.Exists(_fixture.Local("alias")));
        Assert.Equal("kept", File.ReadAllText(_fixture.Local("real/file.txt")));
    }

    private static string RemotePathOf(string local) => local.TrimStart('/');

    /// <summary>Stat, read, list, delete and put of <paramref name="path"/> all fail with <paramref name="code"/> (and <paramref name="message"/>, when given).</summary>
    private void AllRefuse(string path, ErrorCode code, string? message = null)
    {
        var staged = Directory.GetFileSystemEntries(Store.StagingDirectory);
        Action[] operations =
        [
            () => Store.Stat(path),
            () => Store.OpenRead(path, out _).Dispose(),
            () => Store.ListEntries(path),
            () => Store.Delete(path),
            () => _ = Store.BeginUpload(path, 1, 1),
        ];
        foreach (var operation in operations)
        {
            var refusal = StoreAssert.Fails(code, operation);
            if (message is not null)
            {
                Assert.Equal(message, refusal.Message);
            }
        }

        Assert.Equal(staged, Directory.GetFileSystemEntries(Store.StagingDirectory));
    }
}
