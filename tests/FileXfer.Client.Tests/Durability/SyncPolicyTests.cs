using System.Collections.Concurrent;
using System.Security.Cryptography;
using FileXfer.Platform;
using FileXfer.Server.Storage.Local;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client.Tests.Durability;

/// <summary>
/// The real server and client over a store whose file system is said to be of a given type, with the flushes
/// recorded rather than made: on a file system whose <c>syncfs</c> is a silent no-op (FUSE), an upload the client
/// hears "stored" for must have had its own data flushed before it got its name; on a trusted one, a group costs one
/// <c>syncfs</c>.
/// </summary>
public sealed class SyncPolicyTests
{
    [Fact(Timeout = 60000)]
    public async Task On_a_file_system_that_ignores_syncfs_every_acknowledged_file_was_fsynced_before_it_got_its_name()
    {
        // Before the policy, one syncfs flushed a group: on FUSE it returns 0 without reaching the daemon, and a power
        // cut after the answers left the acknowledged files empty under their real names.
        var token = TestContext.Current.CancellationToken;
        var lazy = new LazyFileSystem(FileSystemTypes.Fuse);
        await using var server = new TestServer(root: null, new FileStoreOptions { SyncPolicy = lazy.Policy });
        using var local = new TempDirectory();
        var files = Enumerable.Range(0, 40).ToDictionary(i => $"d{i % 3}/f{i:D2}.txt", i => $"content of file {i}");
        await TestTrees.CreateAsync(local.Combine("src"), files, token);

        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Combine("src"), "b"], token));
        var single = local.Combine("single.txt");
        await File.WriteAllTextAsync(single, "a single put", token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", single, "one.txt"], token));

        Assert.Empty(lazy.Syncfs);
        foreach (var (path, content) in files.Append(new("one.txt", "a single put")))
        {
            var stored = server.PathOf(path.StartsWith("one", StringComparison.Ordinal) ? path : "b/" + path);
            Assert.Equal(content, await File.ReadAllTextAsync(stored, token));
            Assert.True(lazy.WasDurableBeforeItsName(content), $"'{path}' was acknowledged without its data made durable");
        }
    }

    [Fact(Timeout = 60000)]
    public async Task On_a_trusted_file_system_a_group_is_flushed_by_one_syncfs_not_a_fsync_each()
    {
        var token = TestContext.Current.CancellationToken;
        var trusted = new LazyFileSystem(FileSystemTypes.Ext4);
        await using var server = new TestServer(root: null, new FileStoreOptions { SyncPolicy = trusted.Policy });
        using var local = new TempDirectory();
        var files = Enumerable.Range(0, 40).ToDictionary(i => $"f{i:D2}.txt", i => $"content {i}");
        await TestTrees.CreateAsync(local.Combine("src"), files, token);

        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", local.Combine("src"), "b"], token));

        Assert.NotEmpty(trusted.Syncfs);
        Assert.True(trusted.Syncfs.Count < files.Count / 4, $"{trusted.Syncfs.Count} syncfs for {files.Count} files");
        Assert.True(trusted.FsyncCount < files.Count / 4, $"{trusted.FsyncCount} fsyncs for {files.Count} files");
    }

    /// <summary>
    /// A file system of the given type whose flushes are recorded: an fsync makes that file's content durable (read back
    /// through <c>/proc/self/fd</c>, so an unnamed temp file counts too), a syncfs is recorded and makes nothing durable
    /// (as on FUSE). Each fsync also notes whether the file already had a name below the root: it must not.
    /// </summary>
    private sealed class LazyFileSystem
    {
        private readonly ConcurrentDictionary<string, bool> _durable = new(StringComparer.Ordinal);
        private int _fsyncs;

        public LazyFileSystem(long type) =>
            Policy = new SyncPolicy(_ => type, Fsync, file => Syncfs.Add(file.DangerousGetHandle()));

        public SyncPolicy Policy { get; }

        public ConcurrentBag<nint> Syncfs { get; } = [];

        public int FsyncCount => Volatile.Read(ref _fsyncs);

        public bool WasDurableBeforeItsName(string content) =>
            _durable.TryGetValue(Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(content))), out bool beforeName) && beforeName;

        private void Fsync(SafeFileHandle file)
        {
            Interlocked.Increment(ref _fsyncs);
            var link = $"/proc/self/fd/{file.DangerousGetHandle()}";
            var where = new FileInfo(link).LinkTarget ?? string.Empty;

            // A temp file is unnamed (O_TMPFILE: "#inode (deleted)") or in the staging area until it is published.
            bool unnamed = where.EndsWith(" (deleted)", StringComparison.Ordinal) || where.Contains("/.filexfer/staging/", StringComparison.Ordinal);
            _durable[Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(link)))] = unnamed;
            Durable.FsyncFile(file);
        }
    }
}
