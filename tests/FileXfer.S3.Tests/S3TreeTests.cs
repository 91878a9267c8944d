using FileXfer.Client.Tests;

namespace FileXfer.S3.Tests;

/// <summary><c>put -r</c>, <c>get -r</c>, incremental runs and <c>--delete</c> through the real command line, stored in Ceph.</summary>
public class S3TreeTests(CephCluster cluster)
{
    [Fact(Timeout = 300000)]
    public async Task A_tree_round_trips_through_the_object_store_with_empty_folders_times_and_modes_and_a_rerun_sends_nothing()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        await using var server = new S3TestServer(cluster, location);
        using var local = new TempDirectory();
        var source = local.Combine("source");
        var restored = local.Combine("restored");
        await TestTrees.CreateMixedTreeAsync(source, 120, token);
        var original = await TestTrees.DescribeAsync(source, token);

        var put = await Cli.RunAsync(server.Address, ["put", "-r", source, "backup/tree"], token);
        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.StartsWith("put: 120 transferred, 0 unchanged, 0 failed; ", put.StdoutLines[^1], StringComparison.Ordinal);

        var again = await Cli.RunAsync(server.Address, ["put", "-r", source, "backup/tree"], token);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.StartsWith("put: 0 transferred, 120 unchanged, 0 failed; ", again.StdoutLines[^1], StringComparison.Ordinal);

        var get = await Cli.RunAsync(server.Address, ["get", "-r", "backup/tree", restored], token);
        Assert.True(get.ExitCode == 0, get.ToString());
        TestTrees.AssertSame(original, await TestTrees.DescribeAsync(restored, token), "the restored copy");

        var verify = await Cli.RunAsync(server.Address, ["verify", "-r", source, "backup/tree"], token);
        Assert.True(verify.ExitCode == 0, verify.ToString());

        // --delete: what the source no longer has goes, files and (empty) folders alike.
        var gone = original.First(e => !e.Value.IsDirectory).Key;
        File.Delete(TestTrees.Combine(source, gone));
        var sync = await Cli.RunAsync(server.Address, ["put", "-r", "--delete", source, "backup/tree"], token);
        Assert.True(sync.ExitCode == 0, sync.ToString());
        var stat = await Cli.RunAsync(server.Address, ["stat", "backup/tree/" + gone], token);
        Assert.Contains("not found", stat.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(await cluster.ListAllAsync(location, token), o => o.Key.Contains("/.filexfer/", StringComparison.Ordinal));
    }
}
