using System.Security.Cryptography;
using Amazon.S3.Model;
using FileXfer.Client;
using FileXfer.Protocol.Net;

namespace FileXfer.S3.Tests;

/// <summary>
/// Two servers over one bucket behind HAProxy in TCP mode: a put through the proxy whose server is killed midway
/// is retried through the proxy, served by the other server, resumed from the parts the first one staged, and the
/// object is whole and verified.
/// </summary>
public class HaproxyTests(CephCluster cluster)
{
    private const int Size = 40 << 20;

    [Fact(Timeout = 180000)]
    public async Task A_server_killed_mid_put_behind_haproxy_the_retry_is_served_by_the_other_and_resumes()
    {
        cluster.Require();
        if (HaproxyProcess.Executable is null)
        {
            Assert.Fail("haproxy is not installed (apt-get install haproxy; .ci/run installs it)");
        }

        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        var store = $"s3://{location.Bucket}/{location.Prefix.TrimEnd('/')}";
        using var local = new TempDirectory();
        using var first = S3ServerProcess.Start(cluster, local.CreateDirectory("root1"), "--store", store);
        using var second = S3ServerProcess.Start(cluster, local.CreateDirectory("root2"), "--store", store);
        var servers = new[] { await first.WaitUntilListeningAsync(token), await second.WaitUntilListeningAsync(token) };
        using var proxy = await HaproxyProcess.StartAsync(servers, balance: "first", token);
        var source = local.Combine("big.bin");
        var content = RandomNumberGenerator.GetBytes(Size);
        await File.WriteAllBytesAsync(source, content, token);
        var address = HostPort.TryParse(proxy.Address, out var hostPort, out _) ? hostPort! : throw new InvalidOperationException(proxy.Address);

        // "first" sends the put to the first server. Past half the file, once two parts are staged in the bucket,
        // that server is killed (SIGKILL): the client's connection breaks.
        bool killed = false;
        long sent = 0;
        void KillMidway(long chunk)
        {
            // Progress tells each chunk's size as it is written.
            sent += chunk;
            if (killed || sent < Size / 2)
            {
                return;
            }

            // The sender waits here (its progress callback): the server drains what is in flight and stages it.
            while (StagedParts(location) < 2)
            {
                token.ThrowIfCancellationRequested();
            }

            first.Kill();
            killed = true;
        }

        await using (var client = await FileXferClient.ConnectAsync(address, new FileXferClientOptions(), token))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => client.UploadFileAsync(source, "big.bin", KillMidway, token));
        }

        Assert.True(killed);
        Assert.DoesNotContain(await cluster.ListAllAsync(location, token), o => o.Key == location.Prefix + "big.bin");

        // The retry, as the command line's would: a new connection to the same address, the same file.
        await using var retry = await FileXferClient.ConnectAsync(address, new FileXferClientOptions(), token);
        var result = await retry.UploadFileAsync(source, "big.bin", progress: null, token);

        Assert.True(result.ResumedFrom >= 16 << 20, $"resumed from {result.ResumedFrom}");
        Assert.Equal(SHA256.HashData(content), result.Hash);
        using var stored = await cluster.Client.GetObjectAsync(location.Bucket, location.Prefix + "big.bin", token);
        using var copy = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(copy, token);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(copy.ToArray()));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), stored.Metadata["x-amz-meta-fx-hash"]);
        Assert.Equal(["big.bin"], (await cluster.ListAllAsync(location, token)).Select(o => o.Key[location.Prefix.Length..]));
    }

    /// <summary>The parts the partials' multipart uploads hold.</summary>
    private int StagedParts(FileXfer.Server.Storage.S3.BucketLocation location)
    {
        var uploads = cluster.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = location.Bucket, Prefix = location.Prefix + ".filexfer/partials/" })
            .GetAwaiter().GetResult().MultipartUploads ?? [];
        return uploads.Sum(u => cluster.Client.ListPartsAsync(location.Bucket, u.Key, u.UploadId).GetAwaiter().GetResult().Parts?.Count ?? 0);
    }
}
