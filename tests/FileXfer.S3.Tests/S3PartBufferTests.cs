using System.Security.Cryptography;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage;
using FileXfer.Server.Storage.S3;

namespace FileXfer.S3.Tests;

/// <summary>The part buffers the store lends its uploads: given back after each part, reused by the next upload, bounded when idle.</summary>
public class S3PartBufferTests(CephCluster cluster)
{
    private const int PartSize = 5 << 20;

    [Fact(Timeout = 240000)]
    public async Task Uploads_one_after_another_reuse_the_part_buffers_of_the_ones_before()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        var options = new S3StoreOptions { MinPartSize = PartSize, PartsInFlight = 2 };
        using var store = new S3Store(cluster.CreateClient(), location, options, ownsClient: true);
        await using var session = store.OpenSession(string.Empty);

        // Three parts each (5, 5 and 2 MiB): at most three buffers at once (two on their way, one being filled).
        var contents = Enumerable.Range(0, 4).Select(_ => RandomNumberGenerator.GetBytes((2 * PartSize) + (2 << 20))).ToList();
        for (int i = 0; i < contents.Count; i++)
        {
            var content = contents[i];
            var hash = SHA256.HashData(content);
            await using var upload = await session.BeginUploadAsync(new UploadStart($"f{i}.bin", content.Length, content.Length, null, BodyFollows: false), token);
            foreach (var chunk in content.Chunk(256 << 10))
            {
                await upload.Body.WriteAsync(chunk, token);
            }

            upload.Seal(content.Length, hash, hash, null, null, HashAlgorithms.Sha256);
            var results = await session.CommitAsync([upload], token);
            Assert.Null(results[0]);
        }

        // Without the buffers given back, each upload would have taken new ones: four uploads, at least four.
        Assert.InRange(store.PartBuffers.Allocated, 1, options.PartsInFlight + 1);
        for (int i = 0; i < contents.Count; i++)
        {
            using var stored = await cluster.Client.GetObjectAsync(location.Bucket, $"{location.Prefix}f{i}.bin", token);
            using var copy = new MemoryStream();
            await stored.ResponseStream.CopyToAsync(copy, token);
            Assert.True(contents[i].AsSpan().SequenceEqual(copy.ToArray()), $"f{i}.bin differs from what was sent");
        }

        Assert.Empty(await cluster.ListMultipartUploadsAsync(location, token));
    }

    [Fact]
    public void A_buffer_given_back_is_lent_again_and_the_idle_ones_stay_within_their_bound()
    {
        var buffers = new S3PartBuffers(maxIdleBytes: 2 * 1024);
        var first = buffers.Rent(1024);
        var second = buffers.Rent(1024);
        var third = buffers.Rent(1024);
        var other = buffers.Rent(512);
        Assert.Equal(4, buffers.Allocated);

        buffers.Return(first);
        buffers.Return(second);
        buffers.Return(third);
        Assert.Equal(2 * 1024, buffers.IdleBytes);

        // Lent again rather than allocated; a buffer of another length is not taken for it.
        var again = buffers.Rent(1024);
        Assert.True(ReferenceEquals(again, first) || ReferenceEquals(again, second), "a given-back buffer was not lent again");
        Assert.Equal(4, buffers.Allocated);
        buffers.Return(other);
        Assert.Equal(1024 + 512, buffers.IdleBytes);
        Assert.NotSame(other, buffers.Rent(1024));
        Assert.Equal(512, buffers.IdleBytes);
    }
}
