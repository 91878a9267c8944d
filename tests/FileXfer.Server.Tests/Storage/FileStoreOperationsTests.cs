using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Storage;

/// <summary>Stat, list, read and delete on a real temp root.</summary>
public sealed class FileStoreOperationsTests : IDisposable
{
    private readonly StoreFixture _fixture = new(new FileStoreOptions { MaxListEntries = 5 });

    private FileStore Store => _fixture.Store;

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public void Stat_describes_files_directories_and_the_root()
    {
        var local = _fixture.Write("dir/file.txt", "12345");
        var modified = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(local, modified);
        File.SetUnixFileMode(local, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var file = Store.Stat("/dir/file.txt");
        var dir = Store.Stat("dir/");
        var root = Store.Stat("/");

        Assert.Equal(new RemoteEntry("dir/file.txt", EntryKind.File, 5, new DateTimeOffset(modified), Convert.ToInt32("604", 8)), file);
        Assert.Equal(EntryKind.Directory, dir.Kind);
        Assert.Equal(0, dir.Size);
        Assert.Equal("dir", dir.Name);
        Assert.Equal(EntryKind.Directory, root.Kind);
        Assert.Equal("", root.Name);
    }

    [Fact]
    public void Missing_paths_are_not_found()
    {
        _fixture.Write("file.txt", "x");

        StoreAssert.Fails(ErrorCode.NotFound, () => Store.Stat("missing"));
        StoreAssert.Fails(ErrorCode.NotFound, () => Store.Stat("missing/deeper"));
        StoreAssert.Fails(ErrorCode.NotFound, () => Store.OpenRead("missing", out _).Dispose());
        StoreAssert.Fails(ErrorCode.NotFound, () => Store.ListEntries("missing"));
        StoreAssert.Fails(ErrorCode.NotFound, () => Store.Delete("missing"));
    }

    [Fact]
    public void Open_read_refuses_directories()
    {
        Directory.CreateDirectory(_fixture.Local("dir"));

        StoreAssert.Fails(ErrorCode.IsADirectory, () => Store.OpenRead("dir", out _).Dispose());
        StoreAssert.Fails(ErrorCode.IsADirectory, () => Store.OpenRead("/", out _).Dispose());
    }

    [Fact]
    public void List_is_sorted_by_ordinal_name_and_describes_each_entry()
    {
        _fixture.Write("dir/b.txt", "bb");
        _fixture.Write("dir/a.txt", "a");
        _fixture.Write("dir/B.txt", "BBB");
        Directory.CreateDirectory(_fixture.Local("dir/c"));

        var entries = Store.ListEntries("dir");

        Assert.Equal(["B.txt", "a.txt", "b.txt", "c"], entries.Select(e => e.Name));
        Assert.Equal([3L, 1, 2, 0], entries.Select(e => e.Size));
        Assert.Equal([EntryKind.File, EntryKind.File, EntryKind.File, EntryKind.Directory], entries.Select(e => e.Kind));
    }

    [Fact]
    public void List_leaves_out_names_the_protocol_cannot_carry()
    {
        _fixture.Write("dir/good.txt", "x");
        _fixture.Write("dir/back\\slash", "x");
        _fixture.Write("dir/new\nline", "x");

        Assert.Equal(["good.txt"], Store.ListEntries("dir").Select(e => e.Name));
    }

    [Fact]
    public void List_of_a_file_is_not_a_directory_and_an_empty_directory_lists_nothing()
    {
        _fixture.Write("file.txt", "x");
        Directory.CreateDirectory(_fixture.Local("empty"));

        StoreAssert.Fails(ErrorCode.NotADirectory, () => Store.ListEntries("file.txt"));
        Assert.Empty(Store.ListEntries("empty"));
        Assert.Equal(["empty", "file.txt"], Store.ListEntries("/").Select(e => e.Name));
    }

    [Fact]
    public void List_refuses_directories_over_the_entry_limit()
    {
        for (int i = 0; i < 6; i++)
        {
            _fixture.Write($"many/{i}.txt", "x");
        }

        StoreAssert.Fails(ErrorCode.TooLarge, () => Store.ListEntries("many"));
        File.Delete(_fixture.Local("many/0.txt"));
        Assert.Equal(5, Store.ListEntries("many").Count);
    }

    [Fact]
    public void Delete_removes_files_and_empty_directories_and_returns_what_was_removed()
    {
        _fixture.Write("dir/file.txt", "12345");
        Directory.CreateDirectory(_fixture.Local("empty"));

        var file = Store.Delete("dir/file.txt");
        var dir = Store.Delete("/empty/");

        Assert.Equal(new[] { ("dir/file.txt", EntryKind.File, 5L), ("empty", EntryKind.Directory, 0L) }, new[] { (file.Name, file.Kind, file.Size), (dir.Name, dir.Kind, dir.Size) });
        Assert.False(File.Exists(_fixture.Local("dir/file.txt")));
        Assert.False(Directory.Exists(_fixture.Local("empty")));
        Assert.True(Directory.Exists(_fixture.Local("dir")));
    }

    [Fact]
    public void Delete_of_a_non_empty_directory_is_refused_and_removes_nothing()
    {
        _fixture.Write("dir/file.txt", "x");

        StoreAssert.Fails(ErrorCode.DirectoryNotEmpty, () => Store.Delete("dir"));
        Assert.True(File.Exists(_fixture.Local("dir/file.txt")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/")]
    public void Delete_of_the_root_is_refused(string path)
    {
        Assert.Empty(Store.ListEntries(""));

        StoreAssert.Fails(ErrorCode.AccessDenied, () => Store.Delete(path));
        Assert.True(Directory.Exists(Store.Root));
        Assert.True(Directory.Exists(Store.StagingDirectory));
    }
}
