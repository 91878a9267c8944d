using System.Security.Cryptography;

namespace FileXfer.Client.Tests;

/// <summary><c>put - REMOTE</c> from a pipe of unknown length and <c>get REMOTE -</c> to standard output, in-process.</summary>
public class StreamTransferTests
{
    private const int Size = (5 * 1024 * 1024) + 12345;

    [Fact(Timeout = 60000)]
    public async Task Put_dash_stores_standard_input_of_unknown_length_with_the_right_hash()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var data = TestFiles.RandomBytes(Size, seed: 55);
        var expected = Convert.ToHexStringLower(SHA256.HashData(data));
        using var stdin = new NonSeekableStream(new MemoryStream(data), maxRead: 70_001);
        using var stdout = new MemoryStream();

        var put = await CliRunner.RunWithStreamsAsync(server, ["put", "-", "streams/from stdin 🚰.bin"], stdin, stdout, token);

        CliAssert.Success(put);
        Assert.Equal($"stored streams/from stdin 🚰.bin (5.0 MiB, sha256 {expected})\n", put.Stdout);
        Assert.Equal(0, stdout.Length);
        var stored = server.PathOf("streams/from stdin 🚰.bin");
        Assert.Equal(Size, new FileInfo(stored).Length);
        Assert.Equal(expected, await TestFiles.Sha256HexAsync(stored, token));
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.StagingDirectory));
    }

    [Fact(Timeout = 60000)]
    public async Task Put_dash_with_json_reports_the_stream_as_one_transferred_object()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var data = TestFiles.RandomBytes(100_000, seed: 56);
        using var stdin = new NonSeekableStream(new MemoryStream(data), maxRead: 4096);
        using var stdout = new MemoryStream();

        var put = await CliRunner.RunWithStreamsAsync(server, ["put", "--json", "-", "s.bin"], stdin, stdout, token);

        CliAssert.Success(put);
        var item = Assert.Single(JsonOutput.Items(put));
        Assert.Equal("transferred", JsonOutput.Text(item, "status"));
        Assert.Equal("-", JsonOutput.Text(item, "local"));
        Assert.Equal("s.bin", JsonOutput.Text(item, "remote"));
        Assert.Equal(data.Length, item.GetProperty("bytes").GetInt64());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), JsonOutput.Text(item, "sha256"));
    }

    [Fact(Timeout = 60000)]
    public async Task Put_dash_of_an_empty_stream_stores_an_empty_file()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var stdin = new NonSeekableStream(new MemoryStream(), maxRead: 10);
        using var stdout = new MemoryStream();

        var put = await CliRunner.RunWithStreamsAsync(server, ["put", "-", "empty"], stdin, stdout, token);

        CliAssert.Success(put);
        Assert.Equal(0, new FileInfo(server.PathOf("empty")).Length);
    }

    [Fact(Timeout = 60000)]
    public async Task Get_dash_writes_the_exact_bytes_to_standard_output_and_nothing_else()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var data = TestFiles.RandomBytes(Size, seed: 57);
        await File.WriteAllBytesAsync(server.PathOf("blob.bin"), data, token);
        using var stdin = new MemoryStream();
        using var stdout = new MemoryStream();

        var get = await CliRunner.RunWithStreamsAsync(server, ["get", "blob.bin", "-"], stdin, stdout, token);

        CliAssert.Success(get);
        Assert.Empty(get.Stdout);
        Assert.True(data.AsSpan().SequenceEqual(stdout.ToArray()), "the bytes on standard output differ from the stored file");
    }

    [Fact(Timeout = 60000)]
    public async Task A_stream_put_with_dash_comes_back_with_get_dash()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var data = TestFiles.RandomBytes((3 * 1024 * 1024) + 1, seed: 58);
        using var stdin = new NonSeekableStream(new MemoryStream(data), maxRead: 1_000_003);
        using var noInput = new MemoryStream();
        using var noOutput = new MemoryStream();
        using var back = new MemoryStream();

        var put = await CliRunner.RunWithStreamsAsync(server, ["--quiet", "put", "-", "round/trip"], stdin, noOutput, token);
        var get = await CliRunner.RunWithStreamsAsync(server, ["get", "round/trip", "-"], noInput, back, token);

        CliAssert.Success(put);
        CliAssert.Success(get);
        Assert.True(data.AsSpan().SequenceEqual(back.ToArray()));
    }
}
