using System.Text;
using System.Text.Json;
using Snapshooter.Xunit3;

namespace FileXfer.Client.Tests;

/// <summary>
/// The <c>--json</c> lines scripts depend on: pinned by snapshots of small deterministic runs (with the run time and
/// the temp directory taken out), and every object checked against the fields the README documents.
/// </summary>
public class JsonSchemaTests
{
    private static readonly string[] ItemFields = ["op", "status", "local", "remote", "bytes", "sha256"];
    private static readonly string[] SummaryFields = ["op", "command", "transferred", "skipped", "failed", "deleted", "vanished", "bytes", "seconds", "dry_run"];
    private static readonly string[] VerifyFields = ["op", "status", "local", "remote", "sha256", "remote_sha256"];
    private static readonly string[] VerifySummaryFields = ["op", "command", "identical", "differs", "missing_on_server", "only_on_server", "failed", "seconds"];

    private static readonly Dictionary<string, string> Files = new(StringComparer.Ordinal)
    {
        ["a.txt"] = "alpha\n",
        ["dir/b.txt"] = "bravo bravo\n",
        ["dir/empty.bin"] = string.Empty,
        ["dir/sub 深/c 🙂.txt"] = "charlie\n",
        ["void/"] = string.Empty,
    };

    [Fact(Timeout = 60000)]
    public async Task Put_and_get_json_lines_match_the_snapshot_and_the_documented_fields()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        await TestTrees.CreateAsync(source, Files, token);
        var transcript = new StringBuilder();

        var first = await CliRunner.RunAsync(server, ["put", "-r", "--json", source, "backup"], token);
        CliAssert.Success(first);
        Record(transcript, "put -r --json source backup", first, local.Path);

        // Second run: one file changed, one new, one that cannot be stored, and remote-only entries for --delete.
        await File.WriteAllTextAsync(TestTrees.Combine(source, "a.txt"), "alpha, changed\n", token);
        File.SetLastWriteTimeUtc(TestTrees.Combine(source, "a.txt"), new DateTime(2024, 2, 3, 4, 5, 6, DateTimeKind.Utc));
        await TestTrees.CreateAsync(source, new Dictionary<string, string> { ["new.txt"] = "new\n", ["back\\slash.txt"] = "x" }, token);
        Directory.CreateDirectory(server.PathOf("backup/old dir"));
        await File.WriteAllTextAsync(server.PathOf("backup/old dir/old.txt"), "old", token);
        await File.WriteAllTextAsync(server.PathOf("backup/stale.txt"), "stale", token);
        await File.WriteAllTextAsync(TestTrees.Combine(source, "later.txt"), "later\n", token);

        var dryRun = await CliRunner.RunAsync(server, ["put", "-r", "--json", "--dry-run", "--delete", "--exclude", "later.txt", source, "backup"], token);
        Assert.True(dryRun.ExitCode == 7, dryRun.ToString());
        Record(transcript, "put -r --json --dry-run --delete --exclude later.txt source backup", dryRun, local.Path);

        var second = await CliRunner.RunAsync(server, ["put", "-r", "--json", "--delete", "--exclude", "later.txt", source, "backup"], token);
        Assert.True(second.ExitCode == 7, second.ToString());
        Record(transcript, "put -r --json --delete --exclude later.txt source backup", second, local.Path);

        var get = await CliRunner.RunAsync(server, ["get", "-r", "--json", "backup", local.Combine("restored")], token);
        CliAssert.Success(get);
        Record(transcript, "get -r --json backup restored", get, local.Path);

        foreach (var (run, dry) in new[] { (first, false), (dryRun, true), (second, false), (get, false) })
        {
            AssertTransferFields(run, dry);
        }

        // Names appear as they are, emoji included, for scripts that grep the lines.
        Assert.Contains("\"remote\":\"backup/dir/sub 深/c 🙂.txt\"", first.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u", first.Stdout, StringComparison.Ordinal);
        var failed = Assert.Single(JsonOutput.Items(second), i => JsonOutput.Text(i, "status") == "failed");
        Assert.Equal("backup/back\\slash.txt", JsonOutput.Text(failed, "remote"));
        Assert.Equal(3, JsonOutput.Items(second).Count(i => JsonOutput.Text(i, "status") == "deleted"));
        Snapshot.Match(transcript.ToString());
    }

    [Fact(Timeout = 60000)]
    public async Task Verify_json_lines_match_the_snapshot_and_the_documented_fields()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        await TestTrees.CreateAsync(source, Files, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "put", "-r", source, "backup"], token));
        var transcript = new StringBuilder();

        var identical = await CliRunner.RunAsync(server, ["verify", "-r", "--json", source, "backup"], token);
        CliAssert.Success(identical);
        Record(transcript, "verify -r --json source backup", identical, local.Path);

        TestTrees.CorruptOneByte(server.PathOf("backup/dir/b.txt"), 0);
        File.Delete(server.PathOf("backup/a.txt"));
        await File.WriteAllTextAsync(server.PathOf("backup/dir/sub 深/extra.txt"), "extra\n", token);
        var differing = await CliRunner.RunAsync(server, ["verify", "-r", "--json", source, "backup"], token);
        Assert.True(differing.ExitCode == 4, differing.ToString());
        Record(transcript, "verify -r --json source backup (after damage on the server)", differing, local.Path);

        foreach (var run in new[] { identical, differing })
        {
            var objects = JsonOutput.Parse(run);
            foreach (var item in objects.SkipLast(1))
            {
                Assert.Equal(VerifyFields, Names(item));
                Assert.Equal("verify", JsonOutput.Text(item, "op"));
                Assert.Contains(JsonOutput.Text(item, "status"), new[] { "identical", "differs", "missing_on_server", "only_on_server" });
                AssertStringOrNull(item, "local");
                AssertStringOrNull(item, "sha256");
                AssertStringOrNull(item, "remote_sha256");
                Assert.Equal(JsonValueKind.String, item.GetProperty("remote").ValueKind);
            }

            var summary = JsonOutput.Summary(run);
            Assert.Equal(VerifySummaryFields, Names(summary));
            Assert.Equal("verify", JsonOutput.Text(summary, "command"));
            Assert.All(VerifySummaryFields.Skip(2), name => Assert.Equal(JsonValueKind.Number, summary.GetProperty(name).ValueKind));
        }

        Snapshot.Match(transcript.ToString());
    }

    private static void AssertTransferFields(CliResult run, bool dryRun)
    {
        var objects = JsonOutput.Parse(run);
        foreach (var item in objects.SkipLast(1))
        {
            var status = JsonOutput.Text(item, "status");
            string[] expected = [.. ItemFields, .. status == "failed" ? ["error"] : Array.Empty<string>(), .. dryRun ? ["dry_run"] : Array.Empty<string>()];
            Assert.Equal(expected, Names(item));
            Assert.Contains(JsonOutput.Text(item, "op"), new[] { "put", "get", "delete" });
            Assert.Contains(status, new[] { "transferred", "skipped", "failed", "deleted", "vanished" });
            if (JsonOutput.Text(item, "op") == "delete")
            {
                Assert.Equal(JsonValueKind.Null, item.GetProperty("local").ValueKind);
            }
            else
            {
                Assert.NotEqual("deleted", status);
            }

            AssertStringOrNull(item, "local");
            Assert.Equal(JsonValueKind.String, item.GetProperty("remote").ValueKind);
            Assert.True(item.GetProperty("bytes").GetInt64() >= 0);
            AssertStringOrNull(item, "sha256");
            Assert.Equal(status == "transferred" && !dryRun, item.GetProperty("sha256").ValueKind == JsonValueKind.String);
            if (status == "failed")
            {
                Assert.False(string.IsNullOrEmpty(JsonOutput.Text(item, "error")));
            }

            if (dryRun)
            {
                Assert.True(item.GetProperty("dry_run").GetBoolean());
            }
        }

        var summary = JsonOutput.Summary(run);
        Assert.Equal(SummaryFields, Names(summary));
        Assert.All(SummaryFields.Skip(2).SkipLast(1), name => Assert.Equal(JsonValueKind.Number, summary.GetProperty(name).ValueKind));
        Assert.Equal(dryRun, summary.GetProperty("dry_run").GetBoolean());
        var items = objects.SkipLast(1).ToList();
        foreach (var status in new[] { "transferred", "skipped", "failed", "deleted", "vanished" })
        {
            Assert.Equal(items.Count(i => JsonOutput.Text(i, "status") == status), summary.GetProperty(status).GetInt32());
        }

        long sent = items.Where(i => JsonOutput.Text(i, "status") == "transferred").Sum(i => i.GetProperty("bytes").GetInt64());
        Assert.Equal(sent, summary.GetProperty("bytes").GetInt64());
    }

    private static void AssertStringOrNull(JsonElement item, string name) =>
        Assert.Contains(item.GetProperty(name).ValueKind, new[] { JsonValueKind.String, JsonValueKind.Null });

    private static string[] Names(JsonElement item) => [.. item.EnumerateObject().Select(p => p.Name)];

    /// <summary>
    /// Adds a run's lines, normalized, with the per-item lines sorted: files finish in any order over several
    /// connections, and the order is not part of the schema (the summary stays last).
    /// </summary>
    private static void Record(StringBuilder transcript, string command, CliResult run, string localRoot)
    {
        var lines = JsonOutput.Normalize(run.Stdout, localRoot).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        transcript.Append("$ filexfer ").Append(command).Append(" # exit ").Append(run.ExitCode).Append('\n');
        foreach (var line in lines[..^1].Order(StringComparer.Ordinal).Append(lines[^1]))
        {
            transcript.Append(line).Append('\n');
        }
    }
}
