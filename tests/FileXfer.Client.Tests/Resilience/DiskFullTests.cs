using FileXfer.Protocol.Framing;
using FileXfer.Server.Storage.Local;

namespace FileXfer.Client.Tests.Resilience;

/// <summary>A full disk on either side: a clear error, the existing file kept, no temp file left behind.</summary>
public class DiskFullTests
{
    private const int TenMiB = 10 * 1024 * 1024;

    [Fact(Timeout = 60000)]
    public async Task A_put_that_does_not_fit_is_refused_before_its_body_and_the_old_file_is_kept()
    {
        var token = TestContext.Current.CancellationToken;
        using var disk = SmallFileSystem.Mount(6);
        await using var server = new TestServer(disk.Path, new FileStoreOptions { ReserveBytes = 0 });
        using var local = new TempDirectory();
        await File.WriteAllTextAsync(server.PathOf("victim.bin"), "old content", token);
        var big = local.Combine("big.bin");
        await File.WriteAllBytesAsync(big, new byte[TenMiB], token);

        var result = await CliRunner.RunAsync(server, ["put", big, "victim.bin"], token);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not enough space on the server", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("old content", await File.ReadAllTextAsync(server.PathOf("victim.bin"), token));
        Assert.Empty(Directory.GetFiles(server.StagingDirectory));
    }

    [Fact(Timeout = 60000)]
    public async Task A_disk_that_fills_during_an_upload_fails_it_cleanly_and_keeps_the_old_file()
    {
        var token = TestContext.Current.CancellationToken;
        using var disk = SmallFileSystem.Mount(6);
        await using var server = new TestServer(disk.Path, new FileStoreOptions { ReserveBytes = 0 });
        await File.WriteAllTextAsync(server.PathOf("victim.bin"), "old content", token);

        // Standard input has no size to check in advance: the disk fills while the body is written.
        using var input = new NonSeekableStream(new MemoryStream(new byte[TenMiB]), 65536);
        using var output = new MemoryStream();
        var result = await CliRunner.RunWithStreamsAsync(server, ["--retries", "0", "put", "-", "victim.bin"], input, output, token);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no space left", result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Single(result.StderrLines);
        Assert.Equal("old content", await File.ReadAllTextAsync(server.PathOf("victim.bin"), token));
        Assert.Empty(Directory.GetFiles(server.StagingDirectory));

        // The space is given back: a small put still works.
        using var small = new NonSeekableStream(new MemoryStream("fits"u8.ToArray()), 65536);
        var after = await CliRunner.RunWithStreamsAsync(server, ["put", "-", "victim.bin"], small, output, token);
        CliAssert.Success(after);
    }

    [Fact(Timeout = 60000)]
    public async Task A_full_local_disk_fails_a_get_cleanly_and_keeps_the_old_file()
    {
        var token = TestContext.Current.CancellationToken;
        using var disk = SmallFileSystem.Mount(4);
        await using var server = new TestServer();
        await File.WriteAllBytesAsync(server.PathOf("big.bin"), new byte[TenMiB], token);
        // Nested: the free space that counts is the small file system's, not that of the disk it is mounted on.
        var nested = Directory.CreateDirectory(Path.Combine(disk.Path, "a", "b")).FullName;
        var destination = Path.Combine(nested, "big.bin");
        await File.WriteAllTextAsync(destination, "old content", token);

        var result = await CliRunner.RunAsync(server, ["get", "big.bin", destination], token);

        // Found from the size the server declares, before the body is written.
        var line = CliAssert.OneErrorLine(result, 1);
        Assert.Contains($"not enough space on the local disk for '{destination}': {TenMiB} bytes needed, ", line, StringComparison.Ordinal);
        long available = long.Parse(line.Split(" bytes needed, ")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(available, 1, 4 * 1024 * 1024);
        Assert.Equal("old content", await File.ReadAllTextAsync(destination, token));
        Assert.Equal(["big.bin"], Directory.GetFiles(nested).Select(Path.GetFileName));
    }

    [Fact(Timeout = 60000)]
    public async Task A_hostile_size_larger_than_the_local_disk_is_refused_before_a_byte_is_written()
    {
        var token = TestContext.Current.CancellationToken;
        // 2^61 bytes: more than any disk holds. A megabyte of it follows, then the server hangs up.
        await using var hostile = new HostileServer(async (connection, request, ct) =>
        {
            await connection.Writer.WriteAsync(Messages.Data(request.RequestId, 1L << 61, request.GetString(FieldTag.HashAlgorithm), DateTimeOffset.UnixEpoch, null), ct);
            await connection.Stream.WriteAsync(new byte[1024 * 1024], ct);
            connection.Close();
        });
        using var local = new TempDirectory();
        var target = local.Combine("keep.bin");
        await File.WriteAllTextAsync(target, "original", token);

        var result = await CliRunner.RunAsync(hostile.Address, ["get", "huge.bin", target], token);

        var line = CliAssert.OneErrorLine(result, 1);
        Assert.Contains($"not enough space on the local disk for '{target}': {1L << 61} bytes needed", line, StringComparison.Ordinal);
        Assert.Contains("nothing was written", line, StringComparison.Ordinal);
        Assert.Equal("original", await File.ReadAllTextAsync(target, token));
        Assert.Equal(["keep.bin"], TestFiles.ListRelative(local.Path));
    }
}
