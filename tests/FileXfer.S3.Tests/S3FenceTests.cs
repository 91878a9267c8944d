using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage;
using FileXfer.Server.Storage.S3;
using FileXfer.Server.Tests.Support;
using Microsoft.Extensions.Time.Testing;

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
        // Nothing but the declaration's record, kept in the bucket for the other servers.
        Assert.All(await cluster.ListAllAsync(location, token), o => Assert.StartsWith(location.Prefix + ".filexfer/fence/", o.Key, StringComparison.Ordinal));
    }

    [Fact(Timeout = 120000)]
    public async Task A_declaration_through_one_server_fences_the_connection_on_another_and_its_record_is_swept_when_old()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new S3StoreOptions { TimeProvider = clock };
        using var serverA = new S3Store(cluster.CreateClient(), location, options, ownsClient: true);
        using var serverB = new S3Store(cluster.CreateClient(), location, options, ownsClient: true);
        var run = RandomNumberGenerator.GetBytes(16);
        await using var abandoned = serverA.OpenSession(string.Empty);
        await abandoned.JoinRunAsync("writer", new RunTicket(run, 1, []), token);
        var content = RandomNumberGenerator.GetBytes(1000);
        var hash = SHA256.HashData(content);
        var upload = await abandoned.BeginUploadAsync(new UploadStart("late.txt", content.Length, content.Length, null, BodyFollows: false), token);
        await upload.Body.WriteAsync(content, token);
        upload.Seal(content.Length, hash, hash, null, null, HashAlgorithms.Sha256);

        // The retry reaches the other server, which records the declaration in the bucket before answering.
        await using (var retry = serverB.OpenSession(string.Empty))
        {
            await retry.JoinRunAsync("writer", new RunTicket(run, 2, [1]), token);
        }

        var results = await abandoned.CommitAsync([upload], token);

        Assert.Equal(ErrorCode.TransferAborted, Assert.IsType<FileXferException>(results[0]).Code);
        Assert.True(abandoned.IsAbandoned);
        var keys = (await cluster.ListAllAsync(location, token)).Select(o => o.Key[location.Prefix.Length..]).ToList();
        Assert.StartsWith(".filexfer/fence/", Assert.Single(keys), StringComparison.Ordinal);

        // A connection of the same run number under another token is not fenced by it.
        await using (var other = serverA.OpenSession(string.Empty))
        {
            await other.JoinRunAsync("reader", new RunTicket(run, 1, []), token);
            var fine = await other.BeginUploadAsync(new UploadStart("fine.txt", content.Length, content.Length, null, BodyFollows: false), token);
            await fine.Body.WriteAsync(content, token);
            fine.Seal(content.Length, hash, hash, null, null, HashAlgorithms.Sha256);
            Assert.Null(Assert.Single(await other.CommitAsync([fine], token)));
        }

        // Kept until the partial-age limit, then swept.
        Assert.Equal(0, await serverA.RemoveStaleUploadsAsync(token));
        clock.Advance(options.PartialMaxAge + TimeSpan.FromMinutes(5));
        Assert.Equal(1, await serverA.RemoveStaleUploadsAsync(token));
        Assert.Equal(["fine.txt"], (await cluster.ListAllAsync(location, token)).Select(o => o.Key[location.Prefix.Length..]));
    }

    [Fact(Timeout = 120000)]
    public async Task A_stale_body_through_one_server_is_not_stored_once_the_retry_through_the_other_declared_it()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        await using var serverA = new S3TestServer(cluster, location);
        await using var serverB = new S3TestServer(cluster, location);
        var run = RandomNumberGenerator.GetBytes(16);
        var stale = RandomNumberGenerator.GetBytes(100_000);

        await using var first = await RawClient.ConnectAsync(serverA.EndPoint, token);
        await first.HandshakeWithAsync(null, new RunTicket(run, 1, []), token);
        Assert.Equal(MessageType.Ready, (await first.StartPutAsync(1, "x", stale.Length, token)).Type);
        await first.SendRawAsync(stale, token);

        // The client gave the first attempt up; its retry through server B declares it and stores x.
        await using (var retry = await RawClient.ConnectAsync(serverB.EndPoint, token))
        {
            await retry.HandshakeWithAsync(null, new RunTicket(run, 2, [1]), token);
            Assert.Equal(MessageType.Ok, (await retry.PutAsync(1, "x", "retry"u8.ToArray(), token)).Type);
        }

        // The stale body's end arrives at server A.
        await first.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(stale)), token);
        var answer = await first.ReadAsync(token);

        Assert.Equal(MessageType.Error, answer.Type);
        Assert.Equal((ulong)ErrorCode.TransferAborted, answer.GetUInt64OrNull(FieldTag.ErrorCode));
        using var stored = await cluster.Client.GetObjectAsync(location.Bucket, location.Prefix + "x", token);
        using var reader = new StreamReader(stored.ResponseStream);
        Assert.Equal("retry", await reader.ReadToEndAsync(token));
    }
}
