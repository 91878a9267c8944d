using System.Diagnostics;

namespace FileXfer.Client.Tests;

/// <summary>The real <c>filexfer</c> process killed in the middle of a put.</summary>
public class KilledClientTests
{
    // Sparse, so it costs no disk or time to make, yet takes seconds to send: the kill lands mid-body.
    private const long SourceSize = 2L * 1024 * 1024 * 1024;

    [Fact(Timeout = 120000)]
    public async Task A_client_killed_mid_put_leaves_no_file_keeps_a_resumable_partial_and_the_next_put_resumes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("big.sparse");
        await using (var file = new FileStream(source, FileMode.CreateNew, FileAccess.Write))
        {
            file.SetLength(SourceSize);
        }

        await File.WriteAllTextAsync(server.PathOf("victim.bin"), "old content", token);

        using var process = StartClient(server, "put", source, "victim.bin");
        try
        {
            await DirectoryWatch.UntilAsync(
                server.StagingDirectory,
                () => Directory.GetFiles(server.StagingDirectory).Any(f => new FileInfo(f).Length > 0) || process.HasExited,
                TimeSpan.FromSeconds(60),
                "the server stages some bytes of the upload",
                token);
            Assert.False(process.HasExited, $"the client ended before it could be killed (exit {(process.HasExited ? process.ExitCode : 0)})");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync(token);

        Assert.Equal("old content", await File.ReadAllTextAsync(server.PathOf("victim.bin"), token));
        await server.Log.WaitForAsync(m => m.Contains("Put victim.bin: failed with ConnectionLost", StringComparison.Ordinal), TimeSpan.FromSeconds(30), token);
        Assert.Equal("old content", await File.ReadAllTextAsync(server.PathOf("victim.bin"), token));
        Assert.Equal(["victim.bin"], Directory.GetFileSystemEntries(server.Root).Select(Path.GetFileName).Where(n => n != ".filexfer"));

        // What arrived is kept in the staging area, under no real name, for the next put of the same source.
        var staged = Directory.GetFiles(server.StagingDirectory);
        var partial = Assert.Single(staged);
        Assert.EndsWith(".resume", partial, StringComparison.Ordinal);
        long held = new FileInfo(partial).Length;
        Assert.InRange(held, 1, SourceSize - 1);

        var again = await CliRunner.RunAsync(server, ["put", source, "victim.bin"], token);
        CliAssert.Success(again);
        Assert.Contains("resumed after", again.Stdout, StringComparison.Ordinal);
        Assert.Equal(SourceSize, new FileInfo(server.PathOf("victim.bin")).Length);
        Assert.Empty(Directory.GetFiles(server.StagingDirectory));

        var small = local.Combine("small.txt");
        await File.WriteAllTextAsync(small, "after the kill", token);
        var put = await CliRunner.RunAsync(server, ["put", small, "victim.bin"], token);
        CliAssert.Success(put);
        Assert.Equal("after the kill", await File.ReadAllTextAsync(server.PathOf("victim.bin"), token));

    }

    [Fact(Timeout = 60000)]
    public async Task The_real_client_process_reports_exit_codes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllTextAsync(server.PathOf("here.txt"), "here", token);

        using var ok = StartClient(server, "ls");
        using var missing = StartClient(server, "stat", "missing");
        var okOut = await ok.StandardOutput.ReadToEndAsync(token);
        var missingErr = await missing.StandardError.ReadToEndAsync(token);
        await ok.WaitForExitAsync(token);
        await missing.WaitForExitAsync(token);

        Assert.Equal(0, ok.ExitCode);
        Assert.Equal("here.txt\n", okOut);
        Assert.Equal(5, missing.ExitCode);
        Assert.Equal("filexfer: server: 'missing' not found\n", missingErr);
    }

    private static Process StartClient(TestServer server, params string[] args) => ClientProcess.Start(server.Address, args);
}
