namespace FileXfer.Platform.Tests;

/// <summary>
/// Flushing groups of files: one syncfs per file system whose syncfs is trusted, an fsync of each file elsewhere, and
/// every file system the group touches. The policy's calls are recorded; the file systems' types are the real ones
/// unless a test says otherwise.
/// </summary>
public sealed class DurableTests : IDisposable
{
    private readonly List<string> _directories = [];

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact(Timeout = 10000)]
    public async Task A_group_on_two_file_systems_is_flushed_through_one_file_of_each()
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/dev/shm"))
        {
            Assert.Skip("needs Linux with a tmpfs at /dev/shm");
        }

        var token = TestContext.Current.CancellationToken;
        var disk = NewDirectory(Path.GetTempPath());
        var memory = NewDirectory("/dev/shm");
        if (SameDevice(disk, memory))
        {
            Assert.Skip("the temp directory is on /dev/shm's file system");
        }

        await using var written = await WrittenFiles.CreateAsync([Path.Combine(disk, "a"), Path.Combine(disk, "b"), Path.Combine(memory, "c"), Path.Combine(disk, "d"), Path.Combine(memory, "e")], token);
        var files = written.Files;
        var recorded = new Recorder(FileSystemTypes.Of);

        recorded.Policy.FlushAll([.. files.Select(f => f.Handle)]);
        Durable.FlushAll(files);

        // Both are trusted here (the temp directory on ext4 or the like, /dev/shm on tmpfs): one syncfs each.
        Assert.Equal([files[0].Handle, files[2].Handle], recorded.Syncfs);
        Assert.Empty(recorded.Fsync);
    }

    [Fact(Timeout = 10000)]
    public async Task A_group_on_one_file_system_is_flushed_through_its_first_file()
    {
        var token = TestContext.Current.CancellationToken;
        var directory = NewDirectory(Path.GetTempPath());
        await using (var written = await WrittenFiles.CreateAsync([.. Enumerable.Range(0, 3).Select(i => Path.Combine(directory, $"f{i}"))], token))
        {
            var files = written.Files;
            var recorded = new Recorder(_ => FileSystemTypes.Ext4);
            recorded.Policy.FlushAll([.. files.Select(f => f.Handle)]);
            Assert.Equal([files[0].Handle], recorded.Syncfs);
            Assert.Empty(recorded.Fsync);
            Durable.FlushAll(files);
        }

        Assert.All(Enumerable.Range(0, 3), i => Assert.Equal("data", File.ReadAllText(Path.Combine(directory, $"f{i}"))));
    }

    [Theory(Timeout = 10000)]
    [InlineData(FileSystemTypes.Fuse)]
    [InlineData(FileSystemTypes.Nfs)]
    [InlineData(FileSystemTypes.Overlay)]
    [InlineData(0x12345678L)]
    public async Task On_a_file_system_whose_syncfs_is_not_trusted_every_file_is_fsynced_and_syncfs_is_never_relied_on(long type)
    {
        // The code before the policy called syncfs once for the group: on FUSE that returns 0 without reaching the
        // daemon, and every acknowledged file of the group could be lost to a power cut.
        var token = TestContext.Current.CancellationToken;
        var directory = NewDirectory(Path.GetTempPath());
        await using var written = await WrittenFiles.CreateAsync([.. Enumerable.Range(0, 5).Select(i => Path.Combine(directory, $"f{i}"))], token);
        var files = written.Files;
        var recorded = new Recorder(_ => type);
        recorded.Policy.FlushAll([.. files.Select(f => f.Handle)], device: 42);

        Assert.Empty(recorded.Syncfs);
        Assert.Equal(files.Select(f => f.Handle).ToHashSet(), recorded.Fsync.ToHashSet());
        Assert.Equal(5, recorded.Fsync.Count);
    }

    [Fact(Timeout = 10000)]
    public async Task The_file_system_type_is_asked_once_per_device()
    {
        var token = TestContext.Current.CancellationToken;
        var directory = NewDirectory(Path.GetTempPath());
        await using var a = InlineFileStream.CreateNew(Path.Combine(directory, "a"));
        await using var b = InlineFileStream.CreateNew(Path.Combine(directory, "b"));
        await a.WriteAsync("a"u8.ToArray(), token);
        await b.WriteAsync("b"u8.ToArray(), token);
        int asked = 0;
        var recorded = new Recorder(_ =>
        {
            asked++;
            return FileSystemTypes.Xfs;
        });

        recorded.Policy.FlushAll([a.Handle, b.Handle], device: 7);
        recorded.Policy.FlushAll([b.Handle, a.Handle], device: 7);

        Assert.Equal(1, asked);
        Assert.Equal([a.Handle, b.Handle], recorded.Syncfs);
    }

    [Fact]
    public void Closed_files_are_synced_through_their_directory_where_trusted_and_opened_and_fsynced_each_elsewhere()
    {
        var directory = NewDirectory(Path.GetTempPath());
        string[] paths = [Path.Combine(directory, "x"), Path.Combine(directory, "y")];
        foreach (var path in paths)
        {
            File.WriteAllText(path, "closed");
        }

        using var handle = Posix.OpenDirectory(directory);
        var trusted = new Recorder(_ => FileSystemTypes.Btrfs);
        var untrusted = new Recorder(_ => FileSystemTypes.Fuse);

        trusted.Policy.FlushClosed(handle, device: 9, paths);
        untrusted.Policy.FlushClosed(handle, device: 9, paths);

        Assert.Equal([handle], trusted.Syncfs);
        Assert.Empty(trusted.Fsync);
        Assert.Empty(untrusted.Syncfs);
        Assert.Equal(2, untrusted.Fsync.Count);
    }

    [Fact]
    public void Only_file_systems_whose_syncfs_reaches_every_file_are_trusted()
    {
        Assert.True(FileSystemTypes.TrustsSyncfs(FileSystemTypes.Ext4));
        Assert.True(FileSystemTypes.TrustsSyncfs(FileSystemTypes.Xfs));
        Assert.True(FileSystemTypes.TrustsSyncfs(FileSystemTypes.Btrfs));
        Assert.False(FileSystemTypes.TrustsSyncfs(FileSystemTypes.Fuse));
        Assert.False(FileSystemTypes.TrustsSyncfs(FileSystemTypes.Nfs));
        Assert.False(FileSystemTypes.TrustsSyncfs(FileSystemTypes.Overlay));
        Assert.False(FileSystemTypes.TrustsSyncfs(0));
    }

    [Fact]
    public void The_type_of_a_real_file_system_is_read()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("fstatfs is Linux only");
        }

        using var handle = Posix.OpenDirectory("/dev/shm");
        Assert.Equal(FileSystemTypes.Tmpfs, FileSystemTypes.Of(handle));
    }

    /// <summary>Files created and written with "data", open until disposed.</summary>
    private sealed class WrittenFiles : IAsyncDisposable
    {
        private WrittenFiles(List<InlineFileStream> files) => Files = files;

        public List<InlineFileStream> Files { get; }

        public static async Task<WrittenFiles> CreateAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken)
        {
            var written = new WrittenFiles([]);
            try
            {
                foreach (var path in paths)
                {
                    var file = InlineFileStream.CreateNew(path);
                    written.Files.Add(file);
                    await file.WriteAsync("data"u8.ToArray(), cancellationToken);
                }

                return written;
            }
            catch
            {
                await written.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var file in Files)
            {
                await file.DisposeAsync();
            }
        }
    }

    /// <summary>A policy whose flushes are recorded, not made; the file system's type comes from the function given.</summary>
    private sealed class Recorder
    {
        public Recorder(Func<Microsoft.Win32.SafeHandles.SafeFileHandle, long?> type) =>
            Policy = new SyncPolicy(type, file => { lock (Fsync) { Fsync.Add(file); } }, Syncfs.Add);

        public SyncPolicy Policy { get; }

        public List<Microsoft.Win32.SafeHandles.SafeFileHandle> Fsync { get; } = [];

        public List<Microsoft.Win32.SafeHandles.SafeFileHandle> Syncfs { get; } = [];
    }

    [Fact(Timeout = 30000)]
    public async Task Syncs_of_one_file_system_called_at_once_all_return_and_one_after_another_each_gets_its_own()
    {
        if (!Durable.CanSyncFileSystem)
        {
            Assert.Skip("syncfs is Linux only");
        }

        var directory = NewDirectory(Path.GetTempPath());
        using var handle = File.OpenHandle(Path.Combine(directory, "f"), FileMode.CreateNew, FileAccess.Write);

        // One after another: each needs a syncfs that starts after it called, so none is served by an earlier one.
        long before = Durable.SharedSyncCalls;
        Durable.SyncFileSystem(handle);
        Durable.SyncFileSystem(handle);
        Assert.True(Durable.SharedSyncCalls - before >= 2);

        // At once, from many threads: every call returns (other tests may sync the same file system meanwhile).
        var callers = Enumerable.Range(0, 16).Select(_ => Task.Run(() => Durable.SyncFileSystem(handle), TestContext.Current.CancellationToken)).ToArray();
        await Task.WhenAll(callers);
        Assert.All(callers, caller => Assert.True(caller.IsCompletedSuccessfully));
    }

    private static bool SameDevice(string first, string second)
    {
        using var a = File.OpenHandle(Path.Combine(first, "probe"), FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.DeleteOnClose);
        using var b = File.OpenHandle(Path.Combine(second, "probe"), FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.DeleteOnClose);
        return Posix.TryStat(a, out var sa, out _) && Posix.TryStat(b, out var sb, out _) && sa.Device == sb.Device;
    }

    private string NewDirectory(string parent)
    {
        var path = Path.Combine(parent, "filexfer-durable-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        _directories.Add(path);
        return path;
    }
}
