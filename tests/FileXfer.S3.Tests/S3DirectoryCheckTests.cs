using Amazon.S3.Model;
using FileXfer.Client;
using FileXfer.Protocol.Net;
using FileXfer.Server.Storage.S3;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.S3.Tests;

/// <summary>
/// A put never takes the name of a directory (keys below <c>NAME/</c>), whether its file is checked alone or against
/// the directory's subdirectories read once for a tree's files (<see cref="S3Subdirectories"/>).
/// </summary>
public class S3DirectoryCheckTests(CephCluster cluster)
{
    [Fact(Timeout = 180000)]
    public async Task A_put_of_many_files_refuses_the_ones_named_like_a_directory_another_client_made_and_stores_the_rest()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        await using var server = new S3TestServer(cluster, location);
        using var local = new TempDirectory();

        // Another writer of the bucket made docs/sub/ and docs/zz/ (implicit directories, no markers).
        await PutObjectAsync(location.Prefix + "docs/sub/inner.txt", token);
        await PutObjectAsync(location.Prefix + "docs/zz/inner.txt", token);

        // Many files into one directory in one command (one connection, pipelined): the later ones are checked against
        // the directory's reading. (A tree put would refuse them itself: its listing shows the directories.)
        var source = local.Combine("docs");
        Directory.CreateDirectory(source);
        for (int i = 0; i < 40; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(source, $"a{i:D2}.txt"), $"file {i}", token);
        }

        await File.WriteAllTextAsync(Path.Combine(source, "sub"), "in the way", token);
        await File.WriteAllTextAsync(Path.Combine(source, "zz"), "in the way too", token);

        // One connection's pipelined batch, as a tree's transfer connection sends it.
        var failures = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var client = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.EndPoint.Port), new FileXferClientOptions(), token))
        {
            await client.PutBatchAsync(
                Directory.GetFiles(source).Order(StringComparer.Ordinal).Select(f => new TransferItem(f, "docs/" + Path.GetFileName(f))).ToAsyncEnumerable(),
                result =>
                {
                    if (result.Error is { } error)
                    {
                        failures[result.RemotePath] = error.Message;
                    }

                    return ValueTask.CompletedTask;
                },
                progress: null,
                token);
        }

        Assert.Equal(["docs/sub", "docs/zz"], failures.Keys.Order(StringComparer.Ordinal));
        Assert.All(failures.Values, message => Assert.Contains("is a directory", message, StringComparison.Ordinal));
        var keys = (await cluster.ListAllAsync(location, token)).Select(o => o.Key[location.Prefix.Length..]).ToHashSet();
        Assert.DoesNotContain("docs/sub", keys);
        Assert.DoesNotContain("docs/zz", keys);
        Assert.Contains("docs/sub/inner.txt", keys);
        Assert.Contains("docs/zz/inner.txt", keys);
        Assert.All(Enumerable.Range(0, 40), i => Assert.Contains($"docs/a{i:D2}.txt", keys));
    }

    [Fact(Timeout = 120000)]
    public async Task The_directory_reading_is_trusted_only_while_fresh_and_knows_what_this_server_made()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(50));
        using var store = new S3Store(cluster.Client, location, new S3StoreOptions { TimeProvider = clock });
        await using var session = (S3StoreSession)store.OpenSession(string.Empty);
        await PutObjectAsync(location.Prefix + "d/old/x", token);
        var check = session.Subdirectories;

        // The first file of a directory is checked alone; the second reads the directory's subdirectories.
        Assert.False(await check.HasKeysBelowAsync("d/a", session.KeyOf("d/a"), token));
        Assert.True(await check.HasKeysBelowAsync("d/old", session.KeyOf("d/old"), token));
        Assert.False(await check.HasKeysBelowAsync("d/b", session.KeyOf("d/b"), token));

        // A directory this server makes is known at once.
        await session.MakeDirectoryAsync("d/mine", null, null, null, token);
        Assert.True(await check.HasKeysBelowAsync("d/mine", session.KeyOf("d/mine"), token));

        // One another writer makes is not seen while the reading is fresh (the documented window)...
        await PutObjectAsync(location.Prefix + "d/new/x", token);
        Assert.False(await check.HasKeysBelowAsync("d/new", session.KeyOf("d/new"), token));

        // ...and is once it has aged: the stale reading is dropped and that file checked alone.
        clock.Advance(S3Subdirectories.FreshFor + TimeSpan.FromSeconds(1));
        Assert.True(await check.HasKeysBelowAsync("d/new", session.KeyOf("d/new"), token));
        Assert.True(await check.HasKeysBelowAsync("d/new", session.KeyOf("d/new"), token));
        Assert.False(await check.HasKeysBelowAsync("d/other", session.KeyOf("d/other"), token));
    }

    private Task<PutObjectResponse> PutObjectAsync(string key, CancellationToken cancellationToken) =>
        cluster.Client.PutObjectAsync(new PutObjectRequest { BucketName = cluster.Bucket, Key = key, ContentBody = "x" }, cancellationToken);
}
