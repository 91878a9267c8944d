namespace FileXfer.Client.Tests.Resilience;

/// <summary>The server killed with SIGKILL in the middle of a put, then started again on the same root.</summary>
public class ServerCrashTests
{
    private const long SourceSize = 1L * 1024 * 1024 * 1024;

    [Fact(Timeout = 180000)]
    public async Task After_a_crash_mid_put_the_real_name_never_shows_partial_data_and_the_next_put_resumes()
    {
        var token = TestContext.Current.CancellationToken;
        using var sandbox = new TempDirectory();
        var root = Directory.CreateDirectory(sandbox.Combine("root")).FullName;
        var staging = Path.Combine(root, ".filexfer", "staging");
        var source = sandbox.Combine("big.sparse");
        await using (var file = new FileStream(source, FileMode.CreateNew, FileAccess.Write))
        {
            // Sparse: no disk or time to make, yet long enough to be cut in the middle.
            file.SetLength(SourceSize);
        }

        await File.WriteAllTextAsync(Path.Combine(root, "victim.bin"), "old content", token);
        await using (var first = await ServerProcess.StartAsync(root, token))
        {
            var put = CliRunner.RunAsync(first.Address, ["--retries", "0", "put", source, "victim.bin"], token);
            await DirectoryWatch.UntilAsync(
                staging,
                () => Directory.GetFiles(staging).Any(f => new FileInfo(f).Length > 64 * 1024 * 1024) || put.IsCompleted,
                TimeSpan.FromSeconds(60),
                "the server holds part of the upload",
                token);
            Assert.False(put.IsCompleted, "the put ended before the server could be killed");
            await first.KillAsync();
            var failed = await put;
            Assert.Equal(3, failed.ExitCode);
        }

        // The crash left the old file as it was and the partial in the staging area only.
        Assert.Equal("old content", await File.ReadAllTextAsync(Path.Combine(root, "victim.bin"), token));
        var partial = Assert.Single(Directory.GetFiles(staging));
        long held = new FileInfo(partial).Length;
        Assert.InRange(held, 1, SourceSize - 1);

        await using var second = await ServerProcess.StartAsync(root, token);
        Assert.True(File.Exists(partial), "a restart keeps partial uploads younger than --partial-max-age");
        var resumed = await CliRunner.RunAsync(second.Address, ["put", source, "victim.bin"], token);

        CliAssert.Success(resumed);
        Assert.Contains("resumed after", resumed.Stdout, StringComparison.Ordinal);
        Assert.Equal(SourceSize, new FileInfo(Path.Combine(root, "victim.bin")).Length);
        Assert.Empty(Directory.GetFiles(staging));
    }

    [Fact(Timeout = 180000)]
    public async Task A_put_cut_by_the_shutdown_deadline_resumes_on_the_restarted_server()
    {
        var token = TestContext.Current.CancellationToken;
        using var sandbox = new TempDirectory();
        var root = Directory.CreateDirectory(sandbox.Combine("root")).FullName;
        var staging = Path.Combine(root, ".filexfer", "staging");
        var source = sandbox.Combine("big.sparse");
        await using (var file = new FileStream(source, FileMode.CreateNew, FileAccess.Write))
        {
            file.SetLength(SourceSize);
        }

        await using (var first = await ServerProcess.StartAsync(root, token, "--shutdown-timeout", "0.2"))
        {
            var put = CliRunner.RunAsync(first.Address, ["--retries", "0", "put", source, "big.bin"], token);
            await DirectoryWatch.UntilAsync(
                staging,
                () => Directory.GetFiles(staging).Any(f => new FileInfo(f).Length > 64 * 1024 * 1024) || put.IsCompleted,
                TimeSpan.FromSeconds(60),
                "the server holds part of the upload",
                token);
            Assert.False(put.IsCompleted, "the put ended before the server was stopped");

            // SIGTERM: the drain deadline passes with the put still in flight, which is cut; the server exits 0.
            Assert.Equal(0, await first.TerminateAsync(token));
            Assert.Equal(3, (await put).ExitCode);
        }

        Assert.False(File.Exists(Path.Combine(root, "big.bin")));
        Assert.Single(Directory.GetFiles(staging));

        await using var second = await ServerProcess.StartAsync(root, token);
        var resumed = await CliRunner.RunAsync(second.Address, ["put", source, "big.bin"], token);
        CliAssert.Success(resumed);
        Assert.Contains("resumed after", resumed.Stdout, StringComparison.Ordinal);
        Assert.Equal(SourceSize, new FileInfo(Path.Combine(root, "big.bin")).Length);
    }
}
