using System.Security.Cryptography;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Tests.Support;

namespace FileXfer.S3.Tests;

/// <summary>
/// A resumable put cut after part of its body, retried through the same server or through another one over the same
/// bucket: the retry is offered the staged parts, proves them by their hash, sends only the rest, and the whole-file
/// hash is still verified before the object appears.
/// </summary>
public class S3ResumeTests(CephCluster cluster)
{
    private const int Size = 21 << 20;

    [Fact(Timeout = 120000)]
    public async Task A_put_cut_midway_resumes_through_another_server_over_the_same_bucket()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        var content = RandomNumberGenerator.GetBytes(Size);
        var resumeKey = RandomNumberGenerator.GetBytes(16);
        await using var first = new S3TestServer(cluster, location);
        await using var second = new S3TestServer(cluster, location);

        await CutAfterAsync(first, content, resumeKey, sent: 17 << 20, token);
        Assert.DoesNotContain(await cluster.ListAllAsync(location, token), o => o.Key == location.Prefix + "big.bin");

        long resent = await ResumeAsync(second, content, resumeKey, expectedHeld: 16 << 20, token);

        Assert.Equal(Size - (16 << 20), resent);
        await AssertStoredAsync(location, content, token);
    }

    [Fact(Timeout = 120000)]
    public async Task A_put_cut_midway_resumes_through_the_same_server()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        var content = RandomNumberGenerator.GetBytes(Size);
        var resumeKey = RandomNumberGenerator.GetBytes(16);
        await using var server = new S3TestServer(cluster, location);

        await CutAfterAsync(server, content, resumeKey, sent: 9 << 20, token);
        long resent = await ResumeAsync(server, content, resumeKey, expectedHeld: 8 << 20, token);

        Assert.Equal(Size - (8 << 20), resent);
        await AssertStoredAsync(location, content, token);
    }

    [Fact(Timeout = 120000)]
    public async Task A_retry_whose_bytes_differ_from_the_held_ones_starts_over_and_stores_its_own()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        var old = RandomNumberGenerator.GetBytes(Size);
        var content = RandomNumberGenerator.GetBytes(Size);
        var resumeKey = RandomNumberGenerator.GetBytes(16);
        await using var first = new S3TestServer(cluster, location);
        await using var second = new S3TestServer(cluster, location);

        await CutAfterAsync(first, old, resumeKey, sent: 17 << 20, token);
        await using var client = await RawClient.ConnectAsync(second.EndPoint, token);
        await client.HandshakeAsync(token);
        await client.SendAsync(Messages.Put(1, "big.bin", Size, HashAlgorithms.Sha256, null, null, PutFlags.Resume, resumeKey), token);
        var ready = await client.ReadAsync(MessageType.Ready, token);
        Assert.Equal(16 << 20, ready.GetSize(FieldTag.Offset));
        Assert.NotEqual(SHA256.HashData(content.AsSpan(0, 16 << 20)), ready.GetBytes(FieldTag.HashValue));
        await client.SendAsync(Messages.ResumeFrom(1, 0), token);
        await client.SendRawAsync(content, token);
        await client.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(content)), token);
        var answer = await client.ReadAsync(token);
        Assert.True(answer.Type == MessageType.Ok, answer.ToString());

        await AssertStoredAsync(location, content, token);
    }

    /// <summary>Sends the first <paramref name="sent"/> bytes of a resumable put, then closes the connection.</summary>
    private static async Task CutAfterAsync(S3TestServer server, byte[] content, byte[] resumeKey, int sent, CancellationToken cancellationToken)
    {
        await using (var client = await RawClient.ConnectAsync(server.EndPoint, cancellationToken))
        {
            await client.HandshakeAsync(cancellationToken);
            await client.SendAsync(Messages.Put(1, "big.bin", content.Length, HashAlgorithms.Sha256, null, null, PutFlags.Resume, resumeKey), cancellationToken);
            var ready = await client.ReadAsync(MessageType.Ready, cancellationToken);
            Assert.Equal(0, ready.GetSize(FieldTag.Offset));
            await client.SendAsync(Messages.ResumeFrom(1, 0), cancellationToken);
            await client.SendRawAsync(content.AsMemory(0, sent), cancellationToken);
        }

        // The server noticed the cut and let go of the upload (its staged parts stay, for the retry).
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionClosed, 1, TimeSpan.FromSeconds(30), cancellationToken);
        await WaitUntilReleasedAsync(server, cancellationToken);
    }

    private static async Task WaitUntilReleasedAsync(S3TestServer server, CancellationToken cancellationToken)
    {
        foreach (var holder in server.Store.Holders.Values)
        {
            await holder.Released.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Resumes the put: checks the offer, proves the prefix, sends the rest; returns how many body bytes went.</summary>
    private static async Task<long> ResumeAsync(S3TestServer server, byte[] content, byte[] resumeKey, int expectedHeld, CancellationToken cancellationToken)
    {
        await using var client = await RawClient.ConnectAsync(server.EndPoint, cancellationToken);
        await client.HandshakeAsync(cancellationToken);
        await client.SendAsync(Messages.Put(1, "big.bin", content.Length, HashAlgorithms.Sha256, null, null, PutFlags.Resume, resumeKey), cancellationToken);
        var ready = await client.ReadAsync(MessageType.Ready, cancellationToken);
        long held = ready.GetSize(FieldTag.Offset);
        Assert.Equal(expectedHeld, held);
        Assert.Equal(SHA256.HashData(content.AsSpan(0, expectedHeld)), ready.GetBytes(FieldTag.HashValue));
        await client.SendAsync(Messages.ResumeFrom(1, held), cancellationToken);
        await client.SendRawAsync(content.AsMemory((int)held), cancellationToken);
        await client.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(content)), cancellationToken);
        var answer = await client.ReadAsync(cancellationToken);
        Assert.True(answer.Type == MessageType.Ok, answer.ToString());
        Assert.Equal(SHA256.HashData(content), answer.GetBytes(FieldTag.HashValue));
        return content.Length - held;
    }

    private async Task AssertStoredAsync(FileXfer.Server.Storage.S3.BucketLocation location, byte[] content, CancellationToken cancellationToken)
    {
        using var stored = await cluster.Client.GetObjectAsync(location.Bucket, location.Prefix + "big.bin", cancellationToken);
        using var copy = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(copy, cancellationToken);
        Assert.True(content.AsSpan().SequenceEqual(copy.ToArray()), "the stored object differs from the sent file");
        Assert.Equal(["big.bin"], (await cluster.ListAllAsync(location, cancellationToken)).Select(o => o.Key[location.Prefix.Length..]));
        Assert.Empty(await cluster.ListMultipartUploadsAsync(location, cancellationToken));
    }
}
