using System.Security.Cryptography;
using Amazon.S3.Model;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage.S3;
using FileXfer.Server.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.S3.Tests;

/// <summary>
/// Nothing unverified reaches an object: a corrupted byte in flight, a refused or aborted put leave no object, and
/// what an abandoned upload staged (or a multipart upload a stopped server never completed) is swept after the
/// partial-age limit, not before.
/// </summary>
public class S3IntegrityTests(CephCluster cluster)
{
    [Theory(Timeout = 120000)]
    [InlineData(100_000, false)]
    [InlineData(20 << 20, false)]
    [InlineData(20 << 20, true)]
    public async Task A_corrupted_byte_in_flight_never_reaches_an_object_and_leaves_nothing_staged(int size, bool resumable)
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        await using var server = new S3TestServer(cluster, location);
        var content = RandomNumberGenerator.GetBytes(size);
        var corrupted = (byte[])content.Clone();
        corrupted[size / 2] ^= 0x01;

        // The bytes that arrive are the corrupted ones; the sender's hash is of the true file.
        await using var client = await RawClient.ConnectAsync(server.EndPoint, token);
        await client.HandshakeAsync(token);
        await client.SendAsync(Messages.Put(1, "file.bin", size, HashAlgorithms.Sha256, null, null, resumable ? PutFlags.Resume : PutFlags.None, resumable ? RandomNumberGenerator.GetBytes(16) : null), token);
        await client.ReadAsync(MessageType.Ready, token);
        if (resumable)
        {
            await client.SendAsync(Messages.ResumeFrom(1, 0), token);
        }

        await client.SendRawAsync(corrupted, token);
        await client.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(content)), token);
        var answer = await client.ReadAsync(token);

        Assert.Equal(MessageType.Error, answer.Type);
        Assert.Equal((ulong)ErrorCode.IntegrityMismatch, answer.GetUInt64OrNull(FieldTag.ErrorCode));
        Assert.Empty(await cluster.ListAllAsync(location, token));
        Assert.Empty(await cluster.ListMultipartUploadsAsync(location, token));
    }

    [Fact(Timeout = 120000)]
    public async Task An_aborted_put_leaves_no_object_and_its_parts_and_a_stale_multipart_upload_are_swept_after_the_age_limit_only()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = new S3StoreOptions { TimeProvider = clock, PartialMaxAge = TimeSpan.FromHours(1) };
        await using var server = new S3TestServer(cluster, location, options);

        // A resumable put cut after two parts: its parts stay staged for a retry; no object appears.
        await using (var client = await RawClient.ConnectAsync(server.EndPoint, token))
        {
            await client.HandshakeAsync(token);
            await client.SendAsync(Messages.Put(1, "cut.bin", 30 << 20, HashAlgorithms.Sha256, null, null, PutFlags.Resume, RandomNumberGenerator.GetBytes(16)), token);
            await client.ReadAsync(MessageType.Ready, token);
            await client.SendAsync(Messages.ResumeFrom(1, 0), token);
            await client.SendRawAsync(RandomNumberGenerator.GetBytes(17 << 20), token);
        }

        await server.Log.WaitForEventAsync(TestKit.ServerEvents.ConnectionClosed, 1, TimeSpan.FromSeconds(30), token);
        foreach (var holder in server.Store.Holders.Values)
        {
            await holder.Released.WaitAsync(token);
        }

        // A server stopped in the middle of a commit leaves a multipart upload started and never completed.
        await cluster.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = location.Bucket, Key = location.Prefix + "half-committed.bin" }, token);

        // The cut put's parts are held in a multipart upload to its staging key; no object exists.
        Assert.Empty(await cluster.ListAllAsync(location, token));
        var uploads = await cluster.ListMultipartUploadsAsync(location, token);
        Assert.Equal(2, uploads.Count);
        Assert.Contains(uploads, u => u.Key.StartsWith(location.Prefix + ".filexfer/partials/", StringComparison.Ordinal));

        // Younger than the limit: kept.
        clock.Advance(TimeSpan.FromMinutes(50));
        Assert.Equal(0, await server.Store.RemoveStaleUploadsAsync(token));
        Assert.Equal(2, (await cluster.ListMultipartUploadsAsync(location, token)).Count);

        // Past it: the partial and the multipart upload are gone.
        clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(2, await server.Store.RemoveStaleUploadsAsync(token));
        Assert.Empty(await cluster.ListAllAsync(location, token));
        Assert.Empty(await cluster.ListMultipartUploadsAsync(location, token));
    }
}
