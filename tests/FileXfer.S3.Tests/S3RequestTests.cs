using System.Security.Cryptography;

using FileXfer.Server.Storage.S3;

namespace FileXfer.S3.Tests;

/// <summary>Every request of the protocol through the real command line and server, stored in the real Ceph.</summary>
public class S3RequestTests(CephCluster cluster)
{
    [Fact(Timeout = 120000)]
    public async Task Put_get_stat_ls_hash_and_rm_work_on_the_object_store()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        await using var server = new S3TestServer(cluster, location);
        using var local = new TempDirectory();
        var source = local.Combine("report.txt");
        var content = RandomNumberGenerator.GetBytes(100_000);
        await File.WriteAllBytesAsync(source, content, token);
        var modified = new DateTime(2019, 3, 4, 5, 6, 7, DateTimeKind.Utc).AddTicks(1234567);
        File.SetLastWriteTimeUtc(source, modified);
        File.SetUnixFileMode(source, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var put = await Cli.RunAsync(server.Address, ["put", source, "docs/2019/"], token);
        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.StartsWith("stored docs/2019/report.txt", put.StdoutLines[^1], StringComparison.Ordinal);

        // The object is where the key says, with the verified hash, time and mode in its metadata.
        var head = await cluster.Client.GetObjectMetadataAsync(location.Bucket, location.Prefix + "docs/2019/report.txt", token);
        Assert.Equal(content.Length, head.ContentLength);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), head.Metadata["x-amz-meta-fx-hash"]);
        Assert.Equal("640", head.Metadata["x-amz-meta-fx-mode"]);

        var stat = await Cli.RunAsync(server.Address, ["stat", "docs/2019/report.txt", "--json"], token);
        Assert.True(stat.ExitCode == 0, stat.ToString());
        Assert.Contains("\"size\":100000", stat.Stdout, StringComparison.Ordinal);
        Assert.Contains("2019-03-04T05:06:07.1234567Z", stat.Stdout, StringComparison.Ordinal);

        var ls = await Cli.RunAsync(server.Address, ["ls", "docs"], token);
        Assert.True(ls.ExitCode == 0, ls.ToString());
        Assert.Equal(["2019/"], ls.StdoutLines);

        var copy = local.Combine("copy.txt");
        var get = await Cli.RunAsync(server.Address, ["get", "docs/2019/report.txt", copy], token);
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal(content, await File.ReadAllBytesAsync(copy, token));
        Assert.Equal(modified, File.GetLastWriteTimeUtc(copy));

        var hash = await Cli.RunAsync(server.Address, ["hash", "docs/2019/report.txt"], token);
        Assert.True(hash.ExitCode == 0, hash.ToString());
        Assert.Equal($"{Convert.ToHexStringLower(SHA256.HashData(content))}  docs/2019/report.txt", hash.StdoutLines[0]);

        var notEmpty = await Cli.RunAsync(server.Address, ["rm", "docs/2019"], token);
        Assert.NotEqual(0, notEmpty.ExitCode);
        Assert.Contains("not empty", notEmpty.Stderr, StringComparison.Ordinal);

        var rm = await Cli.RunAsync(server.Address, ["rm", "docs/2019/report.txt", "docs/2019", "docs"], token);
        Assert.True(rm.ExitCode == 0, rm.ToString());
        var missing = await Cli.RunAsync(server.Address, ["stat", "docs"], token);
        Assert.Contains("not found", missing.Stderr, StringComparison.Ordinal);
        Assert.Empty(await cluster.ListAllAsync(location, token));
    }

    [Fact(Timeout = 120000)]
    public async Task A_large_file_goes_in_parts_and_a_ranged_get_resumes_inside_it()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        await using var server = new S3TestServer(cluster, location);
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        var content = RandomNumberGenerator.GetBytes(30 << 20);
        await File.WriteAllBytesAsync(source, content, token);

        var put = await Cli.RunAsync(server.Address, ["put", source, "big.bin"], token);
        Assert.True(put.ExitCode == 0, put.ToString());

        // Four parts of 8 MiB: three staged and copied inside the store, the last sent from memory.
        // (A multipart object's ETag ends with its number of parts; Ceph does not answer x-amz-mp-parts-count.)
        var head = await cluster.Client.GetObjectMetadataAsync(location.Bucket, location.Prefix + "big.bin", token);
        Assert.EndsWith("-4\"", head.ETag, StringComparison.Ordinal);
        Assert.Equal(["big.bin"], (await cluster.ListAllAsync(location, token)).Select(o => o.Key[location.Prefix.Length..]));
        Assert.Empty(await cluster.ListMultipartUploadsAsync(location, token));

        // A get that holds the first 10 MiB (its partial file) continues after them: a ranged GET of the object.
        var copy = local.Combine("big.copy");
        var partial = Path.Combine(local.Path, ".big.copy.resume.filexfer-part");
        await File.WriteAllBytesAsync(partial, content.AsMemory(0, 10 << 20).ToArray(), token);
        var get = await Cli.RunAsync(server.Address, ["get", "big.bin", copy], token);
        Assert.True(get.ExitCode == 0, get.ToString());
        var received = await File.ReadAllBytesAsync(copy, token);
        Assert.True(content.AsSpan().SequenceEqual(received));
    }

    [Fact(Timeout = 120000)]
    public async Task A_file_larger_than_one_copy_may_copy_gets_its_name_by_a_multipart_copy()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();

        // AWS copies at most 5 GiB in one CopyObject; here the limit is lowered to 10 MiB to take that path.
        await using var server = new S3TestServer(cluster, location, new S3StoreOptions { MaxCopySize = 10 << 20 });
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        var content = RandomNumberGenerator.GetBytes(30 << 20);
        await File.WriteAllBytesAsync(source, content, token);
        File.SetLastWriteTimeUtc(source, new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));

        var put = await Cli.RunAsync(server.Address, ["put", source, "big.bin"], token);
        Assert.True(put.ExitCode == 0, put.ToString());

        // Staged in four parts of 8 MiB, named by copying three parts of 10 MiB, with the verified hash and the time.
        var head = await cluster.Client.GetObjectMetadataAsync(location.Bucket, location.Prefix + "big.bin", token);
        Assert.EndsWith("-3\"", head.ETag, StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), head.Metadata["x-amz-meta-fx-hash"]);
        Assert.Equal(["big.bin"], (await cluster.ListAllAsync(location, token)).Select(o => o.Key[location.Prefix.Length..]));
        Assert.Empty(await cluster.ListMultipartUploadsAsync(location, token));

        var copy = local.Combine("big.copy");
        var get = await Cli.RunAsync(server.Address, ["get", "big.bin", copy], token);
        Assert.True(get.ExitCode == 0, get.ToString());
        var received = await File.ReadAllBytesAsync(copy, token);
        Assert.True(content.AsSpan().SequenceEqual(received));
        Assert.Equal(new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc), File.GetLastWriteTimeUtc(copy));
    }
}
