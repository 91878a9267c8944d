using FileXfer.Protocol.Net;

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

    [Fact(Timeout = 60000)]
    public async Task Two_different_files_of_one_size_and_time_put_to_one_name_at_once_are_two_uploads_not_one_taken_over()
    {
        // Written in the same clock tick, two files have the same size and time; a resumable put named its partial by
        // these and the destination only, so the second put took the first one's partial over and the server closed
        // the first one's connection (as CI saw: "connection reset by peer" for one of sixteen clients).
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var first = local.Combine("first.bin");
        var second = local.Combine("second.bin");
        await TestFiles.WriteRandomAsync(first, Size, seed: 5001, token);
        await TestFiles.WriteRandomAsync(second, Size, seed: 5002, token);
        var time = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(first, time);
        File.SetLastWriteTimeUtc(second, time);

        // The first put holds its partial on the server (Ready came, its body is being sent) and stops sending: its
        // progress, reported from the loop that sends, waits for the gate.
        using var gate = new ManualResetEventSlim();
        var sending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var slow = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), new FileXferClientOptions(), token);
        var firstPut = Task.Run(() => slow.UploadFileAsync(first, "same.bin", progress: _ =>
        {
            sending.TrySetResult();
            gate.Wait(token);
        }, token), token);
        await sending.Task.WaitAsync(token);

        await using (var fast = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), new FileXferClientOptions(), token))
        {
            await fast.UploadFileAsync(second, "same.bin", progress: null, token);
        }

        Assert.Equal(await TestFiles.Sha256HexAsync(second, token), await TestFiles.Sha256HexAsync(server.PathOf("same.bin"), token));
        gate.Set();
        await firstPut;
        Assert.Equal(await TestFiles.Sha256HexAsync(first, token), await TestFiles.Sha256HexAsync(server.PathOf("same.bin"), token));
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.StagingDirectory));
    }
}
