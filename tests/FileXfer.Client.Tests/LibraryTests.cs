using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;
using FileXfer.Protocol.Paths;

namespace FileXfer.Client.Tests;

/// <summary><see cref="FileXferClient"/> used directly against the real server.</summary>
public class LibraryTests
{
    [Theory(Timeout = 60000)]
    [InlineData(HashAlgorithms.Sha256)]
    [InlineData(HashAlgorithms.XxHash128)]
    public async Task Every_operation_works_with_each_hash_algorithm(string algorithm)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await ConnectAsync(server, algorithm);
        var content = TestFiles.RandomBytes(200_000, seed: 11);
        var expectedHash = ExpectedHash(algorithm, content);
        var modified = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero);
        long reported = 0;

        using var source = new MemoryStream(content);
        var put = await client.PutAsync(source, content.Length, "/lib/data.bin", modified, 0x1A4, bytes => reported += bytes, token);
        using var received = new MemoryStream();
        var get = await client.GetAsync("lib/data.bin", received, progress: null, token);
        var stat = await client.StatAsync("lib/data.bin", token);
        var root = (await client.ListAsync("/", token)).Entries;
        var dir = (await client.ListAsync("lib", token)).Entries;
        var hash = await client.HashAsync("lib/data.bin", algorithm: null, token);
        var deleted = await client.DeleteAsync("lib/data.bin", token);
        var afterDelete = (await client.ListAsync("lib", token)).Entries;

        Assert.Equal("lib/data.bin", put.RemotePath);
        Assert.Equal(algorithm, put.HashAlgorithm);
        Assert.Equal(expectedHash, put.Hash);
        Assert.Equal(content.Length, reported);
        Assert.Equal(content, received.ToArray());
        Assert.Equal(expectedHash, get.Hash);
        Assert.Equal(modified, get.ModifiedUtc);
        Assert.Equal(0x1A4, get.Mode! & 0x1FF);
        Assert.Equal(new RemoteEntry("lib/data.bin", EntryKind.File, content.Length, modified, stat.Mode), stat);
        Assert.Equal(["lib"], root.Select(e => e.Name));
        Assert.Equal(EntryKind.Directory, root[0].Kind);
        Assert.Equal(["data.bin"], dir.Select(e => e.Name));
        Assert.Equal(content.Length, dir[0].Size);
        Assert.Equal(algorithm, hash.HashAlgorithm);
        Assert.Equal(expectedHash, hash.Hash);
        Assert.Equal(content.Length, hash.Size);
        Assert.Equal("lib/data.bin", deleted.Name);
        Assert.Empty(afterDelete);
        Assert.False(File.Exists(server.PathOf("lib/data.bin")));
    }

    [Fact(Timeout = 60000)]
    public async Task Hash_with_an_explicit_algorithm_overrides_the_client_default()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var content = "The quick brown fox"u8.ToArray();
        await File.WriteAllBytesAsync(server.PathOf("fox.txt"), content, token);
        await using var client = await ConnectAsync(server, HashAlgorithms.Sha256);

        var sha = await client.HashAsync("fox.txt", HashAlgorithms.Sha256, token);
        var xxh = await client.HashAsync("fox.txt", HashAlgorithms.XxHash128, token);

        Assert.Equal(SHA256.HashData(content), sha.Hash);
        Assert.Equal(XxHash128.Hash(content), xxh.Hash);
        var error = await Assert.ThrowsAsync<FileXferException>(() => client.HashAsync("fox.txt", "md5", token));
        Assert.Equal(ErrorCode.UnsupportedHashAlgorithm, error.Code);
    }

    [Fact(Timeout = 60000)]
    public async Task Upload_and_download_of_files_keep_content_and_time()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("up.bin");
        var target = local.Combine("down.bin");
        await TestFiles.WriteRandomAsync(source, 3 * 1024 * 1024 + 17, seed: 5, token);
        var modified = new DateTime(2011, 11, 11, 11, 11, 11, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(source, modified);
        await using var client = await ConnectAsync(server, HashAlgorithms.XxHash128);

        var up = await client.UploadFileAsync(source, "up.bin", progress: null, token);
        var down = await client.DownloadFileAsync("up.bin", target, progress: null, token);

        Assert.Equal(up.Hash, down.Hash);
        Assert.True(await TestFiles.ContentEqualsAsync(source, target, token));
        Assert.Equal(modified, File.GetLastWriteTimeUtc(target));
        Assert.Equal(["down.bin", "up.bin"], TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task Remote_errors_arrive_as_coded_exceptions_and_the_connection_stays_usable()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        Directory.CreateDirectory(server.PathOf("full"));
        await File.WriteAllTextAsync(server.PathOf("full/x"), "x", token);
        await using var client = await ConnectAsync(server, HashAlgorithms.Sha256);

        var missing = await Assert.ThrowsAsync<FileXferException>(() => client.StatAsync("nope", token));
        var notEmpty = await Assert.ThrowsAsync<FileXferException>(() => client.DeleteAsync("full", token));
        var isDir = await Assert.ThrowsAsync<FileXferException>(() => client.GetAsync("full", Stream.Null, null, token));
        var invalid = await Assert.ThrowsAsync<FileXferException>(() => client.StatAsync("../x", token));
        var stillWorks = await client.StatAsync("full/x", token);

        Assert.Equal(ErrorCode.NotFound, missing.Code);
        Assert.True(missing.IsRemote);
        Assert.Equal(ErrorCode.DirectoryNotEmpty, notEmpty.Code);
        Assert.Equal(ErrorCode.IsADirectory, isDir.Code);
        Assert.Equal(ErrorCode.InvalidPath, invalid.Code);
        Assert.False(invalid.IsRemote);
        Assert.Equal(1, stillWorks.Size);
    }

    [Theory]
    [InlineData("short.txt")]
    [InlineData("x")]
    [InlineData("")]
    public void The_download_temp_file_is_hidden_random_and_named_after_its_destination(string name)
    {
        var first = Local.LocalDownload.TempFileName(name);
        var second = Local.LocalDownload.TempFileName(name);

        Assert.StartsWith("." + name + ".", first, StringComparison.Ordinal);
        Assert.EndsWith(".filexfer-part", first, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData(255, "a")]
    [InlineData(85, "长")]
    [InlineData(63, "🚀")]
    [InlineData(1, "a")]
    public void The_download_temp_file_name_never_exceeds_255_bytes_nor_splits_a_character(int count, string unit)
    {
        var name = string.Concat(Enumerable.Repeat(unit, count));

        var temp = Local.LocalDownload.TempFileName(name);

        Assert.InRange(Encoding.UTF8.GetByteCount(temp), 1, 255);
        Assert.True(RemotePath.IsValidName(temp, out var error), error);
        Assert.StartsWith("." + unit, temp, StringComparison.Ordinal);
        Assert.EndsWith(".filexfer-part", temp, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task A_batch_get_reports_in_order_after_each_group_is_durable_and_a_report_failure_stops_it_leaving_only_whole_files()
    {
        // Groups are committed while the next is received; their items are reported in order, once committed. When the
        // caller's report fails, the batch stops soon after and the failure is raised: the files committed stay, whole,
        // and nothing else is left (no temp file, no partial file).
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        const int Count = 300;
        for (int i = 0; i < Count; i++)
        {
            Directory.CreateDirectory(server.PathOf($"batch/d{i % 7}"));
            await File.WriteAllTextAsync(server.PathOf($"batch/d{i % 7}/f{i:000}"), $"content {i}", token);
        }

        var items = Enumerable.Range(0, Count).Select(i => new TransferItem(local.Combine("a", $"d{i % 7}", $"f{i:000}"), $"batch/d{i % 7}/f{i:000}")).ToList();
        foreach (var directory in items.Select(i => Path.GetDirectoryName(i.LocalPath)!).Distinct())
        {
            Directory.CreateDirectory(directory);
            Directory.CreateDirectory(directory.Replace(local.Combine("a"), local.Combine("b"), StringComparison.Ordinal));
        }

        await using var client = await ConnectAsync(server, HashAlgorithms.Sha256);
        var reported = new List<string>();
        await client.GetBatchAsync(items.ToAsyncEnumerable(), result =>
        {
            Assert.True(File.Exists(result.LocalPath));
            reported.Add(result.RemotePath);
            return ValueTask.CompletedTask;
        }, progress: null, token);

        Assert.Equal(items.Select(i => i.RemotePath), reported);

        var failing = items.Select(i => i with { LocalPath = i.LocalPath.Replace(local.Combine("a"), local.Combine("b"), StringComparison.Ordinal) }).ToList();
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => client.GetBatchAsync(
            failing.ToAsyncEnumerable(), _ => throw new InvalidOperationException("the report failed"), progress: null, token));

        Assert.Equal("the report failed", failure.Message);
        var kept = failing.TakeWhile(i => File.Exists(i.LocalPath)).ToList();
        Assert.InRange(kept.Count, 1, Count - 1);
        Assert.All(failing.Skip(kept.Count), i => Assert.False(File.Exists(i.LocalPath), i.LocalPath));
        foreach (var item in kept)
        {
            Assert.Equal(await File.ReadAllTextAsync(server.PathOf(item.RemotePath), token), await File.ReadAllTextAsync(item.LocalPath, token));
        }

        Assert.Empty(Directory.EnumerateFiles(local.Combine("b"), "*.filexfer-part", SearchOption.AllDirectories));
    }

    internal static Task<FileXferClient> ConnectAsync(TestServer server, string algorithm) =>
        FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), new FileXferClientOptions { HashAlgorithm = algorithm }, TestContext.Current.CancellationToken);

    private static byte[] ExpectedHash(string algorithm, byte[] content) => algorithm switch
    {
        HashAlgorithms.Sha256 => SHA256.HashData(content),
        HashAlgorithms.XxHash128 => XxHash128.Hash(content),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };
}
