using System.Diagnostics;
using System.IO.Hashing;
using System.Security.Cryptography;

namespace FileXfer.Client.Tests;

/// <summary><c>filexfer hash</c> prints what <c>sha256sum</c> prints for the same files.</summary>
public class HashCommandTests
{
    private const string Sha256Sum = "/usr/bin/sha256sum";

    [Fact(Timeout = 60000)]
    public async Task Hash_prints_the_sha256sum_format_for_each_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        Directory.CreateDirectory(server.PathOf("dir with space"));
        var files = new Dictionary<string, byte[]>
        {
            ["empty"] = [],
            ["one.bin"] = TestFiles.RandomBytes(1, seed: 1),
            ["dir with space/名字 🙂.txt"] = TestFiles.RandomBytes(70_000, seed: 2),
            ["big.bin"] = TestFiles.RandomBytes(3 * 1024 * 1024, seed: 3),
        };
        foreach (var (path, content) in files)
        {
            await File.WriteAllBytesAsync(server.PathOf(path), content, token);
        }

        var result = await CliRunner.RunAsync(server, ["hash", .. files.Keys], token);

        CliAssert.Success(result);
        var expected = files.Select(f => $"{Convert.ToHexStringLower(SHA256.HashData(f.Value))}  {f.Key}\n");
        Assert.Equal(string.Concat(expected), result.Stdout);
    }

    [Fact(Timeout = 60000)]
    public async Task Hash_with_xxh128_prints_the_xxh128sum_format()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var content = TestFiles.RandomBytes(12345, seed: 4);
        await File.WriteAllBytesAsync(server.PathOf("x.bin"), content, token);

        var result = await CliRunner.RunAsync(server, ["hash", "--algorithm", "xxh128", "x.bin"], token);

        CliAssert.Success(result);
        Assert.Equal($"{Convert.ToHexStringLower(XxHash128.Hash(content))}  x.bin\n", result.Stdout);
    }

    [Fact(Timeout = 60000)]
    public async Task Hash_of_one_missing_file_exits_5()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();

        var result = await CliRunner.RunAsync(server, ["hash", "missing"], token);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal(["filexfer: server: 'missing' not found"], result.StderrLines);
    }

    [Fact(Timeout = 60000)]
    public async Task Hash_goes_on_past_a_missing_file_and_exits_7_for_the_batch()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllTextAsync(server.PathOf("a"), "a", token);
        await File.WriteAllTextAsync(server.PathOf("b"), "b", token);

        var result = await CliRunner.RunAsync(server, ["hash", "a", "missing", "b"], token);

        Assert.Equal(7, result.ExitCode);
        Assert.Equal(["a", "b"], result.StdoutLines.Select(line => line[66..]));
        Assert.Equal(["filexfer: server: 'missing' not found"], result.StderrLines);
    }

    [Fact(Timeout = 60000)]
    public async Task Hash_output_equals_the_real_sha256sum_output()
    {
        Assert.SkipUnless(File.Exists(Sha256Sum), $"{Sha256Sum} is not installed");
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        string[] names = ["file with spaces.txt", "plain.bin", "中文 🙂.dat"];
        for (int i = 0; i < names.Length; i++)
        {
            await File.WriteAllBytesAsync(server.PathOf(names[i]), TestFiles.RandomBytes(5000 * (i + 1), seed: i), token);
        }

        var result = await CliRunner.RunAsync(server, ["hash", .. names], token);
        var real = await RunSha256SumAsync(server.Root, names, token);

        CliAssert.Success(result);
        Assert.Equal(real, result.Stdout);
    }

    private static async Task<string> RunSha256SumAsync(string directory, string[] names, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Sha256Sum)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var name in names)
        {
            start.ArgumentList.Add(name);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        Assert.Equal(0, process.ExitCode);
        return output;
    }
}
