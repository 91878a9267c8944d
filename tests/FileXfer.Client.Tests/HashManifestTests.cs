using System.Diagnostics;

namespace FileXfer.Client.Tests;

/// <summary>
/// <c>hash -r REMOTEDIR</c> writes a manifest that <c>sha256sum -c</c> accepts in a restored copy, and
/// <c>verify --sums MANIFEST REMOTEDIR</c> checks such a manifest against the server without downloading.
/// </summary>
public class HashManifestTests
{
    private const string Sha256Sum = "/usr/bin/sha256sum";
    private const int FileCount = 40;

    [Fact(Timeout = 120000)]
    public async Task Hash_r_output_is_accepted_by_sha256sum_c_in_a_restored_copy()
    {
        Assert.SkipUnless(File.Exists(Sha256Sum), $"{Sha256Sum} is not installed");
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        var restored = local.Combine("restored");
        var manifest = local.Combine("backup.sha256");
        await TestTrees.CreateMixedTreeAsync(source, FileCount, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", source, "backup"], token));
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "get", "-r", "backup", restored], token));

        var hash = await CliRunner.RunAsync(server, ["hash", "-r", "backup"], token);
        CliAssert.Success(hash);
        await File.WriteAllTextAsync(manifest, hash.Stdout, token);
        var (exitCode, output) = await RunSha256SumCheckAsync(manifest, restored, token);

        Assert.True(exitCode == 0, output);
        var checkedPaths = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(checkedPaths, line => Assert.EndsWith(": OK", line, StringComparison.Ordinal));
        Assert.Equal(
            Enumerable.Range(0, FileCount).Select(TestTrees.FileName).Order(StringComparer.Ordinal),
            checkedPaths.Select(line => line[..^": OK".Length]).Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 60000)]
    public async Task Sha256sum_c_finds_a_corrupted_restored_file()
    {
        Assert.SkipUnless(File.Exists(Sha256Sum), $"{Sha256Sum} is not installed");
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        var restored = local.Combine("restored");
        var manifest = local.Combine("backup.sha256");
        await TestTrees.CreateMixedTreeAsync(source, 12, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", source, "backup"], token));
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "get", "-r", "backup", restored], token));
        var hash = await CliRunner.RunAsync(server, ["hash", "-r", "backup"], token);
        await File.WriteAllTextAsync(manifest, hash.Stdout, token);
        TestTrees.CorruptOneByte(TestTrees.Combine(restored, TestTrees.FileName(5)), 0);

        var (exitCode, output) = await RunSha256SumCheckAsync(manifest, restored, token);

        Assert.True(exitCode == 1, output);
        Assert.Contains(TestTrees.FileName(5) + ": FAILED", output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task Verify_sums_exits_0_for_the_manifest_and_4_after_a_stored_file_is_corrupted()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        var manifest = local.Combine("backup.sha256");
        await TestTrees.CreateMixedTreeAsync(source, FileCount, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", source, "backup"], token));
        var hash = await CliRunner.RunAsync(server, ["hash", "-r", "backup"], token);
        await File.WriteAllTextAsync(manifest, hash.Stdout, token);

        var clean = await CliRunner.RunAsync(server, ["verify", "--sums", manifest, "backup"], token);
        var corrupted = TestTrees.FileName(9);
        TestTrees.CorruptOneByte(server.PathOf("backup/" + corrupted), 1);
        var rotten = await CliRunner.RunAsync(server, ["verify", "--sums", manifest, "backup"], token);
        var rottenJson = await CliRunner.RunAsync(server, ["verify", "--sums", manifest, "--json", "backup"], token);

        CliAssert.Success(clean);
        Assert.Equal($"verify: {FileCount} identical, 0 differ, 0 missing on server, 0 only on server, 0 failed\n", clean.Stdout);
        Assert.True(rotten.ExitCode == 4, rotten.ToString());
        Assert.Equal($"differs: backup/{corrupted}", rotten.StdoutLines[0]);
        Assert.Equal(4, rottenJson.ExitCode);
        var differs = Assert.Single(JsonOutput.Items(rottenJson), i => JsonOutput.Text(i, "status") != "identical");
        Assert.Equal("differs", JsonOutput.Text(differs, "status"));
        Assert.Equal("backup/" + corrupted, JsonOutput.Text(differs, "remote"));
        Assert.Equal(1, JsonOutput.Summary(rottenJson).GetProperty("differs").GetInt32());
    }

    [Fact(Timeout = 60000)]
    public async Task Verify_sums_takes_sha256sum_s_own_output_with_binary_markers_and_reports_a_missing_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await File.WriteAllTextAsync(server.PathOf("here.txt"), "here\n", token);
        var manifest = local.Combine("sums");
        await File.WriteAllTextAsync(
            manifest,
            "# made by hand\n\n"
            + $"{await TestFiles.Sha256HexAsync(server.PathOf("here.txt"), token)} *./here.txt\n"
            + $"{new string('a', 64)}  gone.txt\n",
            token);

        var verify = await CliRunner.RunAsync(server, ["verify", "--sums", manifest, "/"], token);

        Assert.True(verify.ExitCode == 4, verify.ToString());
        Assert.Equal(["missing on server: gone.txt", "verify: 1 identical, 0 differ, 1 missing on server, 0 only on server, 0 failed"], verify.StdoutLines);
    }

    [Theory(Timeout = 60000)]
    [InlineData("not a manifest line")]
    [InlineData("abc  short-digest.txt")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef no-two-spaces.txt")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg  not-hex.txt")]
    public async Task A_manifest_line_in_a_bad_format_is_a_usage_error(string badLine)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        await File.WriteAllTextAsync(server.PathOf("a.txt"), "a", token);
        var manifest = local.Combine("sums");
        await File.WriteAllTextAsync(manifest, $"{await TestFiles.Sha256HexAsync(server.PathOf("a.txt"), token)}  a.txt\n{badLine}\n", token);

        var verify = await CliRunner.RunAsync(server, ["verify", "--sums", manifest, "/"], token);

        CliAssert.UsageError(verify);
        Assert.Contains($"{manifest}:2: not a '<hex>  <path>' line", verify.Stderr, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunSha256SumCheckAsync(string manifest, string workingDirectory, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Sha256Sum)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(manifest);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }
}
