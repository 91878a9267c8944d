using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage;
using FileXfer.Server.Storage.S3;

namespace FileXfer.S3.Tests;

/// <summary>The abandoned-connection fence on the object store: an upload of a connection its client gave up gets no name.</summary>
public class S3FenceTests(CephCluster cluster)
{
    [Fact(Timeout = 120000)]
    public async Task An_upload_of_a_connection_declared_abandoned_is_not_stored()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        using var store = new S3Store(cluster.CreateClient(), location, ownsClient: true);
        var run = RandomNumberGenerator.GetBytes(16);
        await using var abandoned = store.OpenSession(string.Empty);
        await abandoned.JoinRunAsync(string.Empty, new RunTicket(run, 1, []), token);
        var content = RandomNumberGenerator.GetBytes(1000);
        var hash = SHA256.HashData(content);
        var upload = await abandoned.BeginUploadAsync(new UploadStart("late.txt", content.Length, content.Length, null, BodyFollows: false), token);
        await upload.Body.WriteAsync(content, token);
        upload.Seal(content.Length, hash, hash, null, null, HashAlgorithms.Sha256);

        // The client's next connection declares the first one abandoned before the first one's commit.
        await using var retry = store.OpenSession(string.Empty);
        await retry.JoinRunAsync(string.Empty, new RunTicket(run, 2, [1]), token);
        var results = await abandoned.CommitAsync([upload], token);

        Assert.True(abandoned.IsAbandoned);
        Assert.Equal(ErrorCode.TransferAborted, Assert.IsType<FileXferException>(results[0]).Code);
        Assert.Empty(await cluster.ListAllAsync(location, token));
    }
}
