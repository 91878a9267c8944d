using System.Security.Cryptography;
using System.Text;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage;
using FileXfer.Server.Storage.Local;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Server.Tests.Storage;

/// <summary>Staged uploads: the temp file, the atomic commit, and every way a commit is refused.</summary>
public sealed class FileStoreUploadTests : IDisposable
{
    private readonly StoreFixture _fixture = new(new FileStoreOptions { MaxFileSize = 1024 });

    private FileStore Store => _fixture.Store;

    public void Dispose() => _fixture.Dispose();

    [Fact(Timeout = 30000)]
    public async Task Begin_creates_missing_parents_and_stages_the_body_in_the_staging_area()
    {
        var token = TestContext.Current.CancellationToken;
        await using var upload = Store.BeginUpload("a/b/c.txt", 5, 5);

        Assert.True(Directory.Exists(_fixture.Local("a/b")));
        Assert.Equal(Store.StagingDirectory, Path.GetDirectoryName(upload.TempPath));
        Assert.EndsWith(".part", upload.TempPath, StringComparison.Ordinal);
        Assert.True(File.Exists(upload.TempPath));
        Assert.Equal("a/b/c.txt", upload.Path);
        Assert.Equal(_fixture.Local("a/b/c.txt"), upload.Destination);
        Assert.False(File.Exists(upload.Destination));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(upload.TempPath));

        await CommitAsync(upload, "hello", token);

        Assert.Equal("hello", await File.ReadAllTextAsync(_fixture.Local("a/b/c.txt"), token));
        Assert.False(File.Exists(upload.TempPath));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
    }

    [Fact(Timeout = 30000)]
    public async Task The_old_file_stays_intact_until_commit_replaces_it_whole()
    {
        var token = TestContext.Current.CancellationToken;
        var local = _fixture.Write("f.txt", "old content");
        await using var reader = new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

        await using var upload = Store.BeginUpload("f.txt", 11, 11);
        await upload.Body.WriteAsync(Encoding.UTF8.GetBytes("new content"), token);
        await upload.Body.FlushAsync(token);

        Assert.Equal("old content", await File.ReadAllTextAsync(local, token));
        await upload.CommitAsync(upload.Body.Length, Sha256("new content"), Sha256("new content"), modified: null, mode: null, token);

        Assert.Equal("new content", await File.ReadAllTextAsync(local, token));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));

        // The rename swapped in a new file: a reader that opened the old one still sees all of it.
        using var old = new StreamReader(reader);
        Assert.Equal("old content", await old.ReadToEndAsync(token));
    }

    [Fact(Timeout = 30000)]
    public async Task Disposing_an_uncommitted_upload_removes_the_temp_file_and_leaves_the_old_file()
    {
        var token = TestContext.Current.CancellationToken;
        var local = _fixture.Write("f.txt", "old content");
        string tempPath;
        await using (var upload = Store.BeginUpload("f.txt", 11, 11))
        {
            tempPath = upload.TempPath!;
            await upload.Body.WriteAsync(Encoding.UTF8.GetBytes("new"), token);
        }

        await using (var fresh = Store.BeginUpload("brand-new.txt", 3, 3))
        {
            await fresh.Body.WriteAsync(Encoding.UTF8.GetBytes("new"), token);
        }

        Assert.False(File.Exists(tempPath));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
        Assert.Equal("old content", await File.ReadAllTextAsync(local, token));
        Assert.False(File.Exists(_fixture.Local("brand-new.txt")));
    }

    [Fact(Timeout = 30000)]
    public async Task A_hash_mismatch_at_commit_publishes_nothing_and_the_temp_file_goes_away()
    {
        var token = TestContext.Current.CancellationToken;
        var existing = _fixture.Write("old.txt", "old content");
        await using (var upload = Store.BeginUpload("new.txt", 5, 5))
        {
            await upload.Body.WriteAsync(Encoding.UTF8.GetBytes("hello"), token);
            await StoreAssert.FailsAsync(ErrorCode.IntegrityMismatch, () => upload.CommitAsync(upload.Body.Length, Sha256("hello"), Sha256("HELLO"), null, null, token));
            Assert.False(File.Exists(upload.Destination));
        }

        await using (var upload = Store.BeginUpload("old.txt", 5, 5))
        {
            await upload.Body.WriteAsync(Encoding.UTF8.GetBytes("hello"), token);
            await StoreAssert.FailsAsync(ErrorCode.IntegrityMismatch, () => upload.CommitAsync(upload.Body.Length, Sha256("hello"), new byte[32], null, null, token));
        }

        Assert.False(File.Exists(_fixture.Local("new.txt")));
        Assert.Equal("old content", await File.ReadAllTextAsync(existing, token));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
    }

    [Fact(Timeout = 30000)]
    public async Task A_body_shorter_than_declared_is_a_size_mismatch()
    {
        var token = TestContext.Current.CancellationToken;
        await using (var upload = Store.BeginUpload("short.txt", 10, 10))
        {
            await upload.Body.WriteAsync(Encoding.UTF8.GetBytes("hello"), token);
            await StoreAssert.FailsAsync(ErrorCode.SizeMismatch, () => upload.CommitAsync(upload.Body.Length, Sha256("hello"), Sha256("hello"), null, null, token));
        }

        Assert.False(File.Exists(_fixture.Local("short.txt")));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
    }

    [Fact]
    public void A_put_onto_a_directory_or_the_root_is_refused()
    {
        Directory.CreateDirectory(_fixture.Local("dir"));

        StoreAssert.Fails(ErrorCode.IsADirectory, () => _ = Store.BeginUpload("dir", 1, 1));
        StoreAssert.Fails(ErrorCode.IsADirectory, () => _ = Store.BeginUpload("dir/", 1, 1));
        StoreAssert.Fails(ErrorCode.IsADirectory, () => _ = Store.BeginUpload("/", 1, 1));
        StoreAssert.Fails(ErrorCode.IsADirectory, () => _ = Store.BeginUpload("", 1, 1));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
    }

    [Fact(Timeout = 30000)]
    public async Task A_directory_that_appears_at_the_destination_before_commit_is_not_replaced()
    {
        var token = TestContext.Current.CancellationToken;
        await using var upload = Store.BeginUpload("late.txt", 5, 5);
        await upload.Body.WriteAsync(Encoding.UTF8.GetBytes("hello"), token);
        Directory.CreateDirectory(_fixture.Local("late.txt/inner"));

        await StoreAssert.FailsAsync(ErrorCode.IsADirectory, () => upload.CommitAsync(upload.Body.Length, Sha256("hello"), Sha256("hello"), null, null, token));
        Assert.True(Directory.Exists(_fixture.Local("late.txt/inner")));
    }

    [Theory]
    [InlineData("file.txt/x")]
    [InlineData("file.txt/deeper/x")]
    [InlineData("dir/file.txt/x")]
    public void A_file_as_a_parent_component_is_not_a_directory(string path)
    {
        _fixture.Write("file.txt", "f");
        _fixture.Write("dir/file.txt", "f");

        StoreAssert.Fails(ErrorCode.NotADirectory, () => _ = Store.BeginUpload(path, 1, 1));
        Assert.Equal("f", File.ReadAllText(_fixture.Local("file.txt")));
        Assert.Empty(Directory.GetFiles(Store.StagingDirectory));
    }

    [Fact(Timeout = 30000)]
    public async Task Files_over_the_maximum_size_are_refused_up_front()
    {
        var token = TestContext.Current.CancellationToken;
        StoreAssert.Fails(ErrorCode.TooLarge, () => _ = Store.BeginUpload("big.bin", 1025, 1025));
        StoreAssert.Fails(ErrorCode.TooLarge, () => _ = Store.BeginUpload("huge.bin", long.MaxValue, long.MaxValue));

        await using var atLimit = Store.BeginUpload("limit.bin", 1024, 1024);
        await atLimit.Body.WriteAsync(new byte[1024], token);
        Assert.Single(Directory.GetFiles(Store.StagingDirectory));
        Assert.False(Directory.Exists(_fixture.Local("big.bin")));
    }

    [Fact(Timeout = 30000)]
    public async Task Commit_applies_the_modification_time_and_the_permission_bits()
    {
        var token = TestContext.Current.CancellationToken;
        var modified = new DateTimeOffset(2001, 2, 3, 4, 5, 6, TimeSpan.Zero).AddTicks(1234567);
        await using (var upload = Store.BeginUpload("a.txt", 5, 5))
        {
            await upload.Body.WriteAsync(Encoding.UTF8.GetBytes("hello"), token);
            await upload.CommitAsync(upload.Body.Length, Sha256("hello"), Sha256("hello"), modified, Convert.ToInt32("640", 8), token);
        }

        await using (var upload = Store.BeginUpload("b.txt", 5, 5))
        {
            await upload.Body.WriteAsync(Encoding.UTF8.GetBytes("hello"), token);
            // Read-only and setuid: only the permission bits are kept, and the owner keeps read and write.
            await upload.CommitAsync(upload.Body.Length, Sha256("hello"), Sha256("hello"), modified: null, Convert.ToInt32("4444", 8), token);
        }

        var entry = Store.Stat("a.txt");
        Assert.Equal(modified.UtcDateTime, File.GetLastWriteTimeUtc(_fixture.Local("a.txt")));
        Assert.Equal(modified, entry.ModifiedUtc);
        Assert.Equal(Convert.ToInt32("640", 8), (int)File.GetUnixFileMode(_fixture.Local("a.txt")));
        Assert.Equal(Convert.ToInt32("640", 8), entry.Mode);
        Assert.Equal(Convert.ToInt32("644", 8), (int)File.GetUnixFileMode(_fixture.Local("b.txt")));
    }

    [Fact(Timeout = 30000)]
    public async Task Remove_stale_uploads_deletes_only_part_files_in_the_staging_area()
    {
        var token = TestContext.Current.CancellationToken;
        File.WriteAllText(Path.Combine(Store.StagingDirectory, "0123.part"), "stale");
        File.WriteAllText(Path.Combine(Store.StagingDirectory, "4567.part"), "stale");
        File.WriteAllText(Path.Combine(Store.StagingDirectory, "notes.txt"), "kept");
        _fixture.Write("user.part", "a user's file named like a temp file");

        // A restart over the same root finds the same staging area.
        var restarted = new FileStore(Store.Root);
        int removed = await restarted.RemoveStaleUploadsAsync(token);

        Assert.Equal(2, removed);
        Assert.Equal(["notes.txt"], Directory.GetFiles(Store.StagingDirectory).Select(Path.GetFileName));
        Assert.True(File.Exists(_fixture.Local("user.part")));
        Assert.Equal(0, await restarted.RemoveStaleUploadsAsync(token));
    }

    [Fact(Timeout = 30000)]
    public async Task Resumable_partials_are_kept_until_they_are_older_than_the_maximum_age()
    {
        var token = TestContext.Current.CancellationToken;
        var old = Path.Combine(Store.StagingDirectory, "00112233445566778899aabbccddeeff.resume");
        var fresh = Path.Combine(Store.StagingDirectory, "ffeeddccbbaa99887766554433221100.resume");
        File.WriteAllText(old, "left two days ago");
        File.WriteAllText(fresh, "left a minute ago");
        File.SetLastWriteTimeUtc(old, DateTime.UtcNow - TimeSpan.FromDays(2));
        File.SetLastWriteTimeUtc(fresh, DateTime.UtcNow - TimeSpan.FromMinutes(1));

        var store = new FileStore(Store.Root, new FileStoreOptions { PartialMaxAge = TimeSpan.FromHours(24) });
        int removed = await store.RemoveStaleUploadsAsync(token);

        Assert.Equal(1, removed);
        Assert.False(File.Exists(old));
        Assert.True(File.Exists(fresh));
    }

    [Fact(Timeout = 30000)]
    public async Task The_age_of_a_partial_is_counted_on_the_store_s_clock()
    {
        var token = TestContext.Current.CancellationToken;
        // The partial's time is the file system's (now); its age is measured on the clock the store was given.
        var partial = Path.Combine(Store.StagingDirectory, "00112233445566778899aabbccddeeff.resume");
        File.WriteAllText(partial, "left just now");
        var clock = new FakeTimeProvider(File.GetLastWriteTimeUtc(partial));
        var store = new FileStore(Store.Root, new FileStoreOptions { TimeProvider = clock, PartialMaxAge = TimeSpan.FromHours(24) });

        Assert.Equal(0, await store.RemoveStaleUploadsAsync(token));
        clock.Advance(TimeSpan.FromHours(25));
        Assert.Equal(1, await store.RemoveStaleUploadsAsync(token));
        Assert.False(File.Exists(partial));
    }

    [Fact(Timeout = 30000)]
    public async Task Ranged_uploads_idle_past_the_maximum_age_are_swept_with_their_partial_files_and_held_ones_kept()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new FileStore(Store.Root, new FileStoreOptions { TimeProvider = clock, PartialMaxAge = TimeSpan.FromHours(1) });
        var idle = new RangeStart("idle.bin", 10, HashAlgorithms.Sha256, [1], new FileRange(0, 5));
        await using (var range = await store.BeginRangeAsync(idle, TimeSpan.FromSeconds(10), clock, token))
        {
            await range.Body.WriteAsync("hello"u8.ToArray(), token);
            range.Complete(Sha256("hello"), Sha256("hello"));
        }

        // A connection still sends a range of this one: however old, it is not swept from under it.
        await using var held = await store.BeginRangeAsync(idle with { Path = "held.bin" }, TimeSpan.FromSeconds(10), clock, token);
        Assert.Equal(2, Directory.GetFiles(Store.StagingDirectory).Length);

        Assert.Equal(0, await store.RemoveStaleUploadsAsync(token));
        clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(1, await store.RemoveStaleUploadsAsync(token));

        Assert.Single(Directory.GetFiles(Store.StagingDirectory));
        var gone = await StoreAssert.FailsAsync(ErrorCode.BadRequest, () => store.AssembleAsync(idle with { Range = default }, token));
        Assert.Contains("no ranges of this transfer", gone.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task A_sweep_cancelled_before_it_starts_removes_nothing()
    {
        var token = TestContext.Current.CancellationToken;
        var stale = Path.Combine(Store.StagingDirectory, "0123.part");
        await File.WriteAllTextAsync(stale, "stale", token);
        using var cancelled = CancellationTokenSource.CreateLinkedTokenSource(token);
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.RemoveStaleUploadsAsync(cancelled.Token));
        Assert.True(File.Exists(stale));
    }

    [Fact(Timeout = 30000)]
    public async Task A_resumable_upload_keeps_its_partial_when_abandoned_and_offers_it_to_the_next_put()
    {
        var token = TestContext.Current.CancellationToken;
        byte[] key = [1, 2, 3, 4];
        await using (var first = Store.BeginUpload("r.bin", 10, 10, key))
        {
            Assert.True(first.IsResumable);
            Assert.Equal(0, first.HeldBytes);
            await first.Body.WriteAsync("hello"u8.ToArray(), token);
        }

        // The connection broke: the partial stays in the staging area, nothing under the real name.
        Assert.False(File.Exists(_fixture.Local("r.bin")));
        await using var second = Store.BeginUpload("r.bin", 10, 10, key);
        Assert.True(second.IsResumable);
        Assert.Equal(5, second.HeldBytes);

        // While one upload holds the key, another put of it gets a fresh temp file.
        await using var third = Store.BeginUpload("r.bin", 10, 10, key);
        Assert.False(third.IsResumable);
    }

    [Fact]
    public void A_missing_root_is_refused()
    {
        Assert.Throws<DirectoryNotFoundException>(() => new FileStore(_fixture.Beside("does-not-exist")));
    }

    private static async Task CommitAsync(PendingUpload upload, string content, CancellationToken token)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        await upload.Body.WriteAsync(bytes, token);
        await upload.CommitAsync(upload.Body.Length, SHA256.HashData(bytes), SHA256.HashData(bytes), modified: null, mode: null, token);
    }

    private static byte[] Sha256(string content) => SHA256.HashData(Encoding.UTF8.GetBytes(content));
}
