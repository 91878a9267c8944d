using System.Text;
using FileXfer.Client.Tests;

namespace FileXfer.S3.Tests;

/// <summary><c>--compress</c> is the wire's only: files put and got compressed are stored in Ceph as they are.</summary>
public class S3CompressionTests(CephCluster cluster)
{
    [Fact(Timeout = 300000)]
    public async Task A_file_and_a_tree_put_and_got_with_compress_are_stored_as_they_are()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        await using var server = new S3TestServer(cluster, location);
        using var local = new TempDirectory();
        var source = local.Combine("dump.sql");
        var text = new StringBuilder();
        var random = new Random(17);
        while (text.Length < 12 << 20)
        {
            text.Append(FormattableString.Invariant($"INSERT INTO orders VALUES ({random.Next()},'2026-12-07',{random.Next(100000) / 100.0},'paid');\n"));
        }

        await File.WriteAllTextAsync(source, text.ToString(), token);
        var tree = local.Combine("tree");
        await TestTrees.CreateMixedTreeAsync(tree, 40, token);
        var original = await TestTrees.DescribeAsync(tree, token);

        var put = await Cli.RunAsync(server.Address, ["--compress", "put", source, "backup/dump.sql"], token);
        var putTree = await Cli.RunAsync(server.Address, ["--compress", "put", "-r", tree, "backup/tree"], token);
        var get = await Cli.RunAsync(server.Address, ["--compress", "get", "backup/dump.sql", local.Combine("back.sql")], token);
        var getTree = await Cli.RunAsync(server.Address, ["--compress", "get", "-r", "backup/tree", local.Combine("back")], token);
        // Without --compress: what is in the bucket is the file itself, not blocks.
        var plain = await Cli.RunAsync(server.Address, ["get", "backup/dump.sql", local.Combine("plain.sql")], token);

        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.True(putTree.ExitCode == 0, putTree.ToString());
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.True(getTree.ExitCode == 0, getTree.ToString());
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.True(await TestFiles.ContentEqualsAsync(source, local.Combine("back.sql"), token));
        Assert.True(await TestFiles.ContentEqualsAsync(source, local.Combine("plain.sql"), token));
        TestTrees.AssertSame(original, await TestTrees.DescribeAsync(local.Combine("back"), token), "the restored copy");
        Assert.Contains(await cluster.ListAllAsync(location, token), o => o.Key.EndsWith("backup/dump.sql", StringComparison.Ordinal) && o.Size == new FileInfo(source).Length);
    }
}
