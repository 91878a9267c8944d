using System.Security.Cryptography;

namespace FileXfer.Client.Tests.Resilience;

/// <summary>Several clients putting to one path at once: each has its own temp file; the last complete one wins whole.</summary>
public class ConcurrentPutTests
{
    [Fact(Timeout = 120000)]
    public async Task Eight_clients_putting_different_content_to_one_path_leave_exactly_one_of_them_whole()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        var sources = new List<string>();
        for (int i = 0; i < 8; i++)
        {
            // Different sizes and contents, large enough that the puts overlap.
            var content = new byte[(3 * 1024 * 1024) + (i * 4099)];
            new Random(i).NextBytes(content);
            var path = local.Combine($"source{i}.bin");
            await File.WriteAllBytesAsync(path, content, token);
            sources.Add(path);
            hashes.Add(Convert.ToHexStringLower(SHA256.HashData(content)));
        }

        var results = await Task.WhenAll(sources.Select(source => CliRunner.RunAsync(server, ["put", source, "shared/target.bin"], token)));

        Assert.All(results, CliAssert.Success);
        var stored = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(server.PathOf("shared/target.bin"), token)));
        Assert.Contains(stored, hashes);
        Assert.Empty(Directory.GetFiles(server.StagingDirectory));
        Assert.Equal(["target.bin"], Directory.GetFiles(server.PathOf("shared")).Select(Path.GetFileName));
    }
}
