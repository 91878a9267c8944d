namespace FileXfer.Client.Tests;

/// <summary>Many command-line clients against one server at the same time.</summary>
public class ConcurrencyTests
{
    private const int Clients = 16;
    private const int Size = 1024 * 1024;

    [Fact(Timeout = 120000)]
    public async Task Sixteen_clients_putting_and_getting_at_once_all_succeed_with_the_right_bytes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var sources = Enumerable.Range(0, Clients).Select(i => local.Combine($"source-{i}.bin")).ToArray();
        for (int i = 0; i < Clients; i++)
        {
            await TestFiles.WriteRandomAsync(sources[i], Size, seed: 1000 + i, token);
        }

        var puts = await Task.WhenAll(Enumerable.Range(0, Clients).Select(i =>
            Task.Run(() => CliRunner.RunAsync(server, ["--quiet", "put", sources[i], $"concurrent/file-{i}.bin"], token), token)));
        var gets = await Task.WhenAll(Enumerable.Range(0, Clients).Select(i =>
            Task.Run(() => CliRunner.RunAsync(server, ["--quiet", "get", $"concurrent/file-{i}.bin", local.Combine($"copy-{i}.bin")], token), token)));

        Assert.All(puts, CliAssert.Success);
        Assert.All(gets, CliAssert.Success);
        for (int i = 0; i < Clients; i++)
        {
            var expected = await TestFiles.Sha256HexAsync(sources[i], token);
            Assert.Equal(expected, await TestFiles.Sha256HexAsync(server.PathOf($"concurrent/file-{i}.bin"), token));
            Assert.Equal(expected, await TestFiles.Sha256HexAsync(local.Combine($"copy-{i}.bin"), token));
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(server.StagingDirectory));
    }

    [Fact(Timeout = 120000)]
    public async Task Puts_and_gets_mixed_at_once_all_succeed()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        for (int i = 0; i < Clients / 2; i++)
        {
            await TestFiles.WriteRandomAsync(server.PathOf($"existing-{i}.bin"), Size, seed: 2000 + i, token);
            await TestFiles.WriteRandomAsync(local.Combine($"new-{i}.bin"), Size, seed: 3000 + i, token);
        }

        var runs = await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => Task.Run(
            () => i % 2 == 0
                ? CliRunner.RunAsync(server, ["--quiet", "get", $"existing-{i / 2}.bin", local.Combine($"got-{i / 2}.bin")], token)
                : CliRunner.RunAsync(server, ["--quiet", "put", local.Combine($"new-{i / 2}.bin"), $"new-{i / 2}.bin"], token),
            token)));

        Assert.All(runs, CliAssert.Success);
        for (int i = 0; i < Clients / 2; i++)
        {
            Assert.True(await TestFiles.ContentEqualsAsync(server.PathOf($"existing-{i}.bin"), local.Combine($"got-{i}.bin"), token));
            Assert.True(await TestFiles.ContentEqualsAsync(local.Combine($"new-{i}.bin"), server.PathOf($"new-{i}.bin"), token));
        }
    }

    [Fact(Timeout = 120000)]
    public async Task Sixteen_clients_putting_the_same_name_leave_one_whole_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Clients; i++)
        {
            await TestFiles.WriteRandomAsync(local.Combine($"v{i}.bin"), Size, seed: 4000 + i, token);
            hashes.Add(await TestFiles.Sha256HexAsync(local.Combine($"v{i}.bin"), token));
        }

        var runs = await Task.WhenAll(Enumerable.Range(0, Clients).Select(i =>
            Task.Run(() => CliRunner.RunAsync(server, ["--quiet", "put", local.Combine($"v{i}.bin"), "same.bin"], token), token)));

        Assert.All(runs, CliAssert.Success);
        Assert.Contains(await TestFiles.Sha256HexAsync(server.PathOf("same.bin"), token), hashes);
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.StagingDirectory));
    }
}
