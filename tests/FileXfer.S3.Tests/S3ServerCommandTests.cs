using System.Security.Cryptography;

namespace FileXfer.S3.Tests;

/// <summary><c>filexfer-server --store s3://BUCKET/PREFIX</c> as its own process, credentials from the AWS_* variables.</summary>
public class S3ServerCommandTests(CephCluster cluster)
{
    [Fact(Timeout = 120000)]
    public async Task The_server_started_with_store_s3_serves_the_bucket_prefix()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        using var local = new TempDirectory();
        var root = local.CreateDirectory("root");
        using var server = S3ServerProcess.Start(cluster, root, "--store", $"s3://{location.Bucket}/{location.Prefix.TrimEnd('/')}");
        var endPoint = await server.WaitUntilListeningAsync(token);
        var source = local.Combine("a.bin");
        var content = RandomNumberGenerator.GetBytes(70_000);
        await File.WriteAllBytesAsync(source, content, token);

        var put = await Cli.RunAsync(endPoint.ToString(), ["put", source, "in/a.bin"], token);
        Assert.True(put.ExitCode == 0, put.ToString());
        var copy = local.Combine("copy.bin");
        var get = await Cli.RunAsync(endPoint.ToString(), ["get", "in/a.bin", copy], token);
        Assert.True(get.ExitCode == 0, get.ToString());

        Assert.Equal(content, await File.ReadAllBytesAsync(copy, token));
        Assert.Contains(await cluster.ListAllAsync(location, token), o => o.Key == location.Prefix + "in/a.bin");
        Assert.Empty(Directory.EnumerateFiles(root, "a.bin", SearchOption.AllDirectories));
    }

    [Theory(Timeout = 120000)]
    [InlineData("s3://no-such-bucket-here", "cannot use s3://no-such-bucket-here/")]
    [InlineData("s3://B", "is not a bucket name")]
    [InlineData("file:///tmp", "s3://BUCKET[/PREFIX]")]
    public async Task A_store_that_cannot_be_used_is_one_line_and_exit_2(string store, string expected)
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        using var local = new TempDirectory();
        using var server = S3ServerProcess.Start(cluster, local.CreateDirectory("root"), "--store", store);

        Assert.Equal(2, await server.WaitForExitAsync(token));
        var line = Assert.Single(server.StandardError);
        Assert.StartsWith("filexfer-server: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }
}
