using System.Globalization;

namespace FileXfer.Client.Tests;

/// <summary>Put then get through the real command line against the real server, compared byte for byte.</summary>
public class CliRoundTripTests
{
    private const long MiB = 1024 * 1024;

    [Theory(Timeout = 60000)]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(4095L)]
    [InlineData(4096L)]
    [InlineData(4097L)]
    [InlineData(65535L)]
    [InlineData(65536L)]
    [InlineData(65537L)]
    [InlineData(MiB - 1)]
    [InlineData(MiB)]
    [InlineData(MiB + 1)]
    public async Task Put_then_get_gives_back_the_same_bytes(long size)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source.bin");
        var copy = local.Combine("copy.bin");
        await TestFiles.WriteRandomAsync(source, size, seed: (int)size, token);

        var put = await CliRunner.RunAsync(server, ["put", source, "data/file.bin"], token);
        var get = await CliRunner.RunAsync(server, ["get", "data/file.bin", copy], token);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.True(get.ExitCode == 0, get.ToString());
        var expected = await TestFiles.Sha256HexAsync(source, token);
        Assert.Equal(expected, await TestFiles.Sha256HexAsync(server.PathOf("data/file.bin"), token));
        Assert.Equal(expected, await TestFiles.Sha256HexAsync(copy, token));
        Assert.True(await TestFiles.ContentEqualsAsync(source, copy, token));
        Assert.Equal(size, new FileInfo(copy).Length);
        Assert.Contains(expected, put.Stdout, StringComparison.Ordinal);
        Assert.Contains(expected, get.Stdout, StringComparison.Ordinal);
        Assert.Empty(put.Stderr);
        Assert.Empty(get.Stderr);
    }

    [Theory(Timeout = 60000)]
    [InlineData("xxh128")]
    [InlineData("blake3")]
    public async Task Put_and_get_with_a_faster_hash_verify_with_it(string algorithm)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source.bin");
        var copy = local.Combine("copy.bin");
        await TestFiles.WriteRandomAsync(source, 3 * MiB + 17, seed: 11, token);
        var expected = algorithm == "blake3"
            ? Convert.ToHexStringLower(Blake3.Hasher.Hash(await File.ReadAllBytesAsync(source, token)).AsSpan())
            : Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(await File.ReadAllBytesAsync(source, token)));

        var put = await CliRunner.RunAsync(server, ["put", "--algorithm", algorithm, source, "fast.bin"], token);
        var get = await CliRunner.RunAsync(server, ["get", "-a", algorithm, "fast.bin", copy], token);
        var hash = await CliRunner.RunAsync(server, ["hash", "-a", algorithm, "fast.bin"], token);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Contains($"{algorithm} {expected}", put.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{algorithm} {expected}", get.Stdout, StringComparison.Ordinal);
        Assert.Equal($"{expected}  fast.bin\n", hash.Stdout);
        Assert.True(await TestFiles.ContentEqualsAsync(source, copy, token));
    }

    [Fact(Timeout = 180000)]
    public async Task A_300_MiB_file_round_trips_and_matches_by_hash()
    {
        const long Size = 300 * MiB;
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        var copy = local.Combine("big.copy");
        await TestFiles.WriteRandomAsync(source, Size, seed: 300, token);

        var put = await CliRunner.RunAsync(server, ["--quiet", "put", source, "big.bin"], token);
        Assert.True(put.ExitCode == 0, put.ToString());
        var get = await CliRunner.RunAsync(server, ["--quiet", "get", "big.bin", copy], token);
        Assert.True(get.ExitCode == 0, get.ToString());

        var expected = await TestFiles.Sha256HexAsync(source, token);
        Assert.Equal(Size, new FileInfo(copy).Length);
        Assert.Equal(expected, await TestFiles.Sha256HexAsync(server.PathOf("big.bin"), token));
        Assert.Equal(expected, await TestFiles.Sha256HexAsync(copy, token));
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.StagingDirectory));
    }

    [Theory(Timeout = 60000)]
    [InlineData("中文文件名.txt", "远程目录/中文 名字.txt")]
    [InlineData("with spaces in it.txt", "remote dir/with  two  spaces .txt")]
    [InlineData("emoji 🚀📦.bin", "😀/family 👨‍👩‍👧.bin")]
    [InlineData("mixed 混合 🎉.dat", "mixed 混合 🎉.dat")]
    public async Task Unicode_and_space_names_work_on_both_sides(string localName, string remotePath)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine(localName);
        var copy = local.Combine("back " + localName);
        await TestFiles.WriteRandomAsync(source, 10_000, seed: 7, token);

        var put = await CliRunner.RunAsync(server, ["put", source, remotePath], token);
        var get = await CliRunner.RunAsync(server, ["get", remotePath, copy], token);
        var ls = await CliRunner.RunAsync(server, ["ls", remotePath.Contains('/', StringComparison.Ordinal) ? remotePath[..remotePath.LastIndexOf('/')] : "/"], token);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.True(File.Exists(server.PathOf(remotePath)), $"'{remotePath}' is not stored under its own name");
        Assert.True(await TestFiles.ContentEqualsAsync(source, copy, token));
        Assert.Contains(remotePath, put.Stdout, StringComparison.Ordinal);
        Assert.Contains(remotePath[(remotePath.LastIndexOf('/') + 1)..], ls.StdoutLines);
    }

    [Theory(Timeout = 60000)]
    [InlineData(255, "a")]
    [InlineData(85, "长")]
    [InlineData(63, "🚀")]
    public async Task Names_of_the_longest_allowed_length_round_trip(int count, string unit)
    {
        // 255 UTF-8 bytes: the protocol's limit for one name, and the file system's.
        var token = TestContext.Current.CancellationToken;
        var name = string.Concat(Enumerable.Repeat(unit, count));
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source.txt");
        var target = local.Combine("downloads");
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(source, "long name", token);

        var put = await CliRunner.RunAsync(server, ["put", source, "dir/" + name], token);
        var get = await CliRunner.RunAsync(server, ["get", "dir/" + name, target], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.Equal("long name", await File.ReadAllTextAsync(Path.Combine(target, name), token));
        Assert.Equal([name], TestFiles.ListRelative(target));
    }

    [Fact(Timeout = 60000)]
    public async Task Put_to_a_path_ending_in_a_slash_keeps_the_local_name()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("keep me 保留.txt");
        await File.WriteAllTextAsync(source, "hello", token);

        var put = await CliRunner.RunAsync(server, ["put", source, "dir/sub/"], token);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.Equal("hello", await File.ReadAllTextAsync(server.PathOf("dir/sub/keep me 保留.txt"), token));
        Assert.Equal(["dir/sub/keep me 保留.txt"], TestFiles.ListRelative(server.Root).Where(p => !p.StartsWith(".filexfer", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 60000)]
    public async Task Get_into_an_existing_directory_writes_the_remote_name_inside_it()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        Directory.CreateDirectory(server.PathOf("a/b"));
        await File.WriteAllTextAsync(server.PathOf("a/b/report 报告.txt"), "remote content", token);
        var target = local.Combine("downloads");
        Directory.CreateDirectory(target);

        var get = await CliRunner.RunAsync(server, ["get", "a/b/report 报告.txt", target], token);

        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal("remote content", await File.ReadAllTextAsync(Path.Combine(target, "report 报告.txt"), token));
        Assert.Equal(["report 报告.txt"], TestFiles.ListRelative(target));
    }

    [Fact(Timeout = 60000)]
    public async Task Get_replaces_an_existing_local_file_and_leaves_no_temp_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await File.WriteAllTextAsync(server.PathOf("f.txt"), "new", token);
        var target = local.Combine("f.txt");
        await File.WriteAllTextAsync(target, "old content that is longer", token);

        var get = await CliRunner.RunAsync(server, ["get", "f.txt", target], token);

        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal("new", await File.ReadAllTextAsync(target, token));
        Assert.Equal(["f.txt"], TestFiles.ListRelative(local.Path));
    }

    [Theory(Timeout = 60000)]
    [InlineData("2001-02-03T04:05:06.7654321Z")]
    [InlineData("1969-07-20T20:17:40.0000001Z")]
    [InlineData("2100-12-31T23:59:59.9999999Z")]
    public async Task The_modification_time_survives_put_and_get(string time)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("old.txt");
        var copy = local.Combine("old.copy");
        await File.WriteAllTextAsync(source, "from the past", token);
        var modified = DateTime.Parse(time, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
        File.SetLastWriteTimeUtc(source, modified);

        var put = await CliRunner.RunAsync(server, ["put", source, "old.txt"], token);
        var get = await CliRunner.RunAsync(server, ["get", "old.txt", copy], token);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal(modified, File.GetLastWriteTimeUtc(server.PathOf("old.txt")));
        Assert.Equal(modified, File.GetLastWriteTimeUtc(copy));
    }
}
