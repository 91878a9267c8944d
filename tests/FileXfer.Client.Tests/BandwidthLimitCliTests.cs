namespace FileXfer.Client.Tests;

/// <summary>
/// --bwlimit on the command line and in a remote: a bad rate is a usage error; a good one still transfers (how close
/// the measured rate comes to it is bench/bwlimit.sh's to show, not a timed test's).
/// </summary>
public sealed class BandwidthLimitCliTests : IDisposable
{
    private readonly TempDirectory _local = new();

    public void Dispose() => _local.Dispose();

    [Fact(Timeout = 60000)]
    public async Task A_bad_rate_is_a_usage_error()
    {
        var result = await CliRunner.RunAsync(["--bwlimit", "fast", "ls"], TestContext.Current.CancellationToken);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("filexfer: --bwlimit: 'fast' is not a rate", result.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task A_limited_put_and_get_transfer_and_verify()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var source = _local.Combine("a.bin");
        var content = new byte[256 * 1024];
        Random.Shared.NextBytes(content);
        await File.WriteAllBytesAsync(source, content, token);

        var put = await CliRunner.RunAsync(server, ["--bwlimit", "100M", "put", source, "a.bin"], token);
        var get = await CliRunner.RunAsync(server, ["get", "a.bin", _local.Combine("copy.bin"), "--bwlimit", "100M"], token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.Equal(content, await File.ReadAllBytesAsync(_local.Combine("copy.bin"), token));
    }

    [Fact(Timeout = 60000)]
    public async Task A_remote_s_rate_is_checked_when_the_file_is_read()
    {
        var token = TestContext.Current.CancellationToken;
        var config = _local.Combine("client.conf");
        await File.WriteAllTextAsync(config, "[office]\nserver = 127.0.0.1:1\nbwlimit = 10T\n", token);

        var result = await CliRunner.RunAsync(["ls", "office:"], new Dictionary<string, string> { ["FILEXFER_CONFIG"] = config }, isErrorTerminal: false, token);

        Assert.Equal($"filexfer: {config} line 3: bwlimit: '10T' is not a rate: a number of KiB per second, or with a suffix B, K, M or G (500, 1.5M, 64000B)", CliAssert.OneErrorLine(result, 2));
    }
}
