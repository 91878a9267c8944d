namespace FileXfer.Client.Tests.Resilience;

/// <summary>The server stopped in the middle of a put (SIGKILL, or SIGTERM past its drain deadline), then started again on the same root.</summary>
public class ServerCrashTests
{
    private const long SourceSize = 1L * 1024 * 1024 * 1024;

    [Fact(Timeout = 180000)]
    public async Task After_a_crash_mid_put_the_real_name_never_shows_partial_data_and_the_next_put_resumes()
    {
        var token = TestContext.Current.CancellationToken;
        using var setup = await Setup.CreateAsync(token);
        await File.WriteAllTextAsync(setup.RootPath("victim.bin"), "old content", token);

        await using (var first = await ServerProcess.StartAsync(setup.Root, token))
        {
            var put = await setup.StartPutAndWaitForBytesAsync(first, "victim.bin", token);
            await first.KillAsync();
            Assert.Equal(3, (await put).ExitCode);
        }

        // The crash left the old file as it was and the partial in the staging area only.
        Assert.Equal("old content", await File.ReadAllTextAsync(setup.RootPath("victim.bin"), token));
        var partial = Assert.Single(Directory.GetFiles(setup.Staging));
        Assert.InRange(new FileInfo(partial).Length, 1, SourceSize - 1);

        await using var second = await ServerProcess.StartAsync(setup.Root, token);
        Assert.True(File.Exists(partial), "a restart keeps partial uploads younger than --partial-max-age");
        await setup.AssertResumedPutAsync(second, "victim.bin", token);
    }

    [Fact(Timeout = 180000)]
    public async Task A_put_cut_by_the_shutdown_deadline_resumes_on_the_restarted_server()
    {
        var token = TestContext.Current.CancellationToken;
        using var setup = await Setup.CreateAsync(token);

        await using (var first = await ServerProcess.StartAsync(setup.Root, token, "--shutdown-timeout", "0.2"))
        {
            var put = await setup.StartPutAndWaitForBytesAsync(first, "big.bin", token);

            // SIGTERM: the drain deadline passes with the put still in flight, which is cut; the server exits 0.
            Assert.Equal(0, await first.TerminateAsync(token));
            Assert.Equal(3, (await put).ExitCode);
        }

        Assert.False(File.Exists(setup.RootPath("big.bin")));
        Assert.Single(Directory.GetFiles(setup.Staging));

        await using var second = await ServerProcess.StartAsync(setup.Root, token);
        await setup.AssertResumedPutAsync(second, "big.bin", token);
    }

    /// <summary>A root, its staging area, and a sparse source: no disk or time to make, yet long enough to be cut.</summary>
    private sealed class Setup : IDisposable
    {
        private readonly TempDirectory _sandbox = new();

        private Setup()
        {
            Root = Directory.CreateDirectory(_sandbox.Combine("root")).FullName;
        }

        public string Root { get; }

        public string Staging => Path.Combine(Root, ".filexfer", "staging");

        public string Source => _sandbox.Combine("big.sparse");

        public static async Task<Setup> CreateAsync(CancellationToken cancellationToken)
        {
            var setup = new Setup();
            await using var file = new FileStream(setup.Source, FileMode.CreateNew, FileAccess.Write);
            file.SetLength(SourceSize);
            await file.FlushAsync(cancellationToken);
            return setup;
        }

        public string RootPath(string name) => Path.Combine(Root, name);

        /// <summary>Starts a put without retries and returns once the server holds more than 64 MiB of it.</summary>
        public async Task<Task<CliResult>> StartPutAndWaitForBytesAsync(ServerProcess server, string remote, CancellationToken cancellationToken)
        {
            var put = CliRunner.RunAsync(server.Address, ["--retries", "0", "put", Source, remote], cancellationToken);
            await DirectoryWatch.UntilAsync(
                Staging,
                () => Directory.GetFiles(Staging).Any(f => new FileInfo(f).Length > 64 * 1024 * 1024) || put.IsCompleted,
                TimeSpan.FromSeconds(60),
                "the server holds part of the upload",
                cancellationToken);
            Assert.False(put.IsCompleted, "the put ended before the server was stopped");
            return put;
        }

        public async Task AssertResumedPutAsync(ServerProcess server, string remote, CancellationToken cancellationToken)
        {
            var resumed = await CliRunner.RunAsync(server.Address, ["put", Source, remote], cancellationToken);
            CliAssert.Success(resumed);
            Assert.Contains("resumed after", resumed.Stdout, StringComparison.Ordinal);
            Assert.Equal(SourceSize, new FileInfo(RootPath(remote)).Length);
            Assert.Empty(Directory.GetFiles(Staging));
        }

        public void Dispose() => _sandbox.Dispose();
    }
}
