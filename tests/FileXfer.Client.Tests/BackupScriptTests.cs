using System.Diagnostics;

namespace FileXfer.Client.Tests;

/// <summary>
/// examples/backup.sh run for real with bash, the built client (<c>dotnet filexfer.dll</c>) and the in-process server:
/// the script relies on the client's exit codes and --json lines, so these tests pin that contract end to end.
/// </summary>
public class BackupScriptTests
{
    private const string Bash = "/bin/bash";

    [Fact(Timeout = 180000)]
    public async Task A_first_run_backs_up_and_verifies_and_keeps_both_logs()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var work = new TempDirectory();
        var source = work.Combine("source");
        var logs = work.Combine("logs");
        Directory.CreateDirectory(logs);
        await TestTrees.CreateMixedTreeAsync(source, 30, token);

        var run = await RunScriptAsync(server, source, "nightly/data", logs, token);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("backup: 30 sent, 0 unchanged, ", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("verify: 30 files identical on the server", run.Stdout, StringComparison.Ordinal);
        var putLog = Assert.Single(Directory.GetFiles(logs, "backup-*.put.jsonl"));
        var verifyLog = Assert.Single(Directory.GetFiles(logs, "backup-*.verify.jsonl"));
        Assert.Equal(31, (await File.ReadAllLinesAsync(putLog, token)).Length);
        Assert.Equal(31, (await File.ReadAllLinesAsync(verifyLog, token)).Length);
        TestTrees.AssertSame(await TestTrees.DescribeAsync(source, token), await TestTrees.DescribeAsync(server.PathOf("nightly/data"), token), "the backup");
    }

    [Fact(Timeout = 180000)]
    public async Task A_second_run_after_bit_rot_on_the_server_exits_4_and_names_the_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var work = new TempDirectory();
        var source = work.Combine("source");
        var logs = work.Combine("logs");
        Directory.CreateDirectory(logs);
        await TestTrees.CreateMixedTreeAsync(source, 30, token);
        var first = await RunScriptAsync(server, source, "nightly/data", logs, token);
        Assert.True(first.ExitCode == 0, first.ToString());
        var rotten = TestTrees.FileName(4);
        Assert.Contains("🙂", rotten, StringComparison.Ordinal);
        TestTrees.CorruptOneByte(server.PathOf("nightly/data/" + rotten), 5);

        var second = await RunScriptAsync(server, source, "nightly/data", logs, token);

        Assert.True(second.ExitCode == 4, second.ToString());
        // The quick check of put skipped the damaged file; verify caught it.
        Assert.Contains("backup: 0 sent, 30 unchanged, ", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("verify: FAILED", second.Stderr, StringComparison.Ordinal);
        Assert.Contains($"  differs: nightly/data/{rotten}\n", second.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180000)]
    public async Task A_file_that_cannot_be_backed_up_makes_the_script_exit_7_after_verifying_the_rest()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "a backslash cannot be part of a file name on Windows");
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var work = new TempDirectory();
        var source = work.Combine("source");
        var logs = work.Combine("logs");
        Directory.CreateDirectory(logs);
        await TestTrees.CreateMixedTreeAsync(source, 10, token);
        await File.WriteAllTextAsync(Path.Combine(source, "bad\\name.txt"), "cannot be stored", token);

        var run = await RunScriptAsync(server, source, "nightly/data", logs, token);

        Assert.True(run.ExitCode == 7, run.ToString());
        Assert.Contains("backup: 1 file(s) could not be backed up:", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("  nightly/data/bad\\\\name.txt", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("verify: 10 files identical on the server", run.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task An_unreachable_server_makes_the_script_exit_3()
    {
        var token = TestContext.Current.CancellationToken;
        using var work = new TempDirectory();
        var source = work.Combine("source");
        await TestTrees.CreateAsync(source, new Dictionary<string, string> { ["a.txt"] = "a" }, token);
        string address;
        await using (var gone = new TestServer())
        {
            address = gone.Address;
        }

        var run = await RunScriptAsync(address, source, "nightly/data", work.Path, token);

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Contains("backup: cannot reach the server", run.Stderr, StringComparison.Ordinal);
    }

    private static Task<CliResult> RunScriptAsync(TestServer server, string source, string remote, string logs, CancellationToken cancellationToken) =>
        RunScriptAsync(server.Address, source, remote, logs, cancellationToken);

    private static async Task<CliResult> RunScriptAsync(string address, string source, string remote, string logs, CancellationToken cancellationToken)
    {
        Assert.SkipUnless(File.Exists(Bash), $"{Bash} is not installed");
        var dotnet = FindDotnet();
        Assert.SkipWhen(dotnet is null, "the dotnet host is not on PATH and DOTNET_HOST_PATH is not set");
        var client = Path.Combine(AppContext.BaseDirectory, "filexfer.dll");
        Assert.True(File.Exists(client), $"{client} is missing: the client is built next to the test assembly");
        Assert.SkipWhen((dotnet + client).Contains(' ', StringComparison.Ordinal), $"the script splits FILEXFER on spaces, and '{dotnet} {client}' has more than one");

        var start = new ProcessStartInfo(Bash)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Script(), source, remote, logs })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["FILEXFER"] = $"{dotnet} {client}";
        start.Environment["FILEXFER_SERVER"] = address;
        start.Environment.Remove("FILEXFER_DEBUG");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>examples/backup.sh of this checkout, found by walking up from the test assembly.</summary>
    private static string Script()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "examples", "backup.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail($"examples/backup.sh not found above {AppContext.BaseDirectory}");
        return string.Empty;
    }

    private static string? FindDotnet()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "dotnet"))
            .FirstOrDefault(File.Exists);
    }
}
