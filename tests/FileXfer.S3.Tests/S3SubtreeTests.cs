using System.Security.Cryptography;
using System.Text;
using FileXfer.Server.Handlers;
using FileXfer.Server.Security;

namespace FileXfer.S3.Tests;

/// <summary>A token's subtree is a key prefix: its client sees and changes only the objects below it.</summary>
public class S3SubtreeTests(CephCluster cluster)
{
    private const string Secret = "Al1ce-s3cret-NEVER-on-the-wire-0123";

    [Fact(Timeout = 120000)]
    public async Task A_token_confined_to_a_subtree_works_inside_its_prefix_only()
    {
        cluster.Require();
        var token = TestContext.Current.CancellationToken;
        var location = cluster.NewLocation();
        await cluster.Client.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = location.Bucket, Key = location.Prefix + "secret.txt", ContentBody = "not alice's" }, token);
        var handlerOptions = new FileXferHandlerOptions
        {
            Authenticator = new TokenAuthenticator(
                [new TokenEntry("alice", TokenAccess.ReadWrite, "home/alice", Encoding.UTF8.GetBytes(Secret))],
                new AuthThrottle(new AuthThrottleOptions { FailureDelay = TimeSpan.Zero, MaxFailureDelay = TimeSpan.Zero })),
        };
        await using var server = new S3TestServer(cluster, location, handlerOptions: handlerOptions);
        using var local = new TempDirectory();
        var tokenFile = local.Combine("alice.token");
        await File.WriteAllTextAsync(tokenFile, $"alice:{Secret}\n", token);
        File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var source = local.Combine("notes.txt");
        await File.WriteAllBytesAsync(source, RandomNumberGenerator.GetBytes(5000), token);

        var put = await Cli.RunAsync(server.Address, ["--token-file", tokenFile, "put", source, "notes.txt"], token);
        Assert.True(put.ExitCode == 0, put.ToString());
        var ls = await Cli.RunAsync(server.Address, ["--token-file", tokenFile, "ls"], token);
        Assert.True(ls.ExitCode == 0, ls.ToString());

        Assert.Equal(["notes.txt"], ls.StdoutLines);
        Assert.Contains(await cluster.ListAllAsync(location, token), o => o.Key == location.Prefix + "home/alice/notes.txt");
        var outside = await Cli.RunAsync(server.Address, ["--token-file", tokenFile, "stat", "secret.txt"], token);
        Assert.Contains("not found", outside.Stderr, StringComparison.Ordinal);
    }
}
