using FileXfer.Server.Handlers;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// A file put through FileXfer keeps its verified hash beside it, and a get then sends it without reading it
/// through the hash, with sendfile(2) or through a buffer (a loopback peer, by default): the client still checks
/// every byte against the stored hash. Each test runs both ways.
/// </summary>
public class ZeroCopyGetTests
{
    private const long Size = (6L * 1024 * 1024) + 123;

    [Theory(Timeout = 60000)]
    [InlineData(SendFileUse.Always)]
    [InlineData(SendFileUse.RemotePeers)]
    public async Task A_stored_file_changed_behind_the_servers_back_with_its_time_put_back_fails_the_get(SendFileUse sendFile)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { SendFile = sendFile });
        using var local = new TempDirectory();
        var source = local.Combine("source.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 61, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["put", source, "stored.bin"], token));
        var first = await CliRunner.RunAsync(server, ["get", "stored.bin", local.Combine("first.bin")], token);
        CliAssert.Success(first);
        Assert.True(await TestFiles.ContentEqualsAsync(source, local.Combine("first.bin"), token));

        // Bit rot, or an edit that kept the time: the bytes no longer are what was stored.
        await RotKeepingTimeAsync(server.PathOf("stored.bin"), 4_000_000, 0x5A);

        var get = await CliRunner.RunAsync(server, ["get", "stored.bin", local.Combine("second.bin")], token);

        var line = CliAssert.OneErrorLine(get, 4);
        Assert.Contains("do not match", line, StringComparison.Ordinal);
        Assert.False(File.Exists(local.Combine("second.bin")));
    }

    [Fact(Timeout = 60000)]
    public async Task Over_TLS_a_stored_file_is_sent_with_its_stored_hash_so_rot_at_rest_fails_the_get()
    {
        // Hashing the file again as it is sent would give the client the hash of the rotten bytes, and it would accept them.
        var token = TestContext.Current.CancellationToken;
        using var certificate = TestCertificates.Create();
        await using var server = new TestServer(certificate);
        using var local = new TempDirectory();
        var knownHosts = local.Combine("known_hosts");
        var source = local.Combine("source.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 64, token);
        string[] tls = ["--tls", "--known-hosts", knownHosts, "--quiet"];
        var put = await CliRunner.RunAsync(server, [.. tls, "put", source, "stored.bin"], token);
        Assert.True(put.ExitCode == 0, put.ToString());
        CliAssert.Success(await CliRunner.RunAsync(server, [.. tls, "get", "stored.bin", local.Combine("first.bin")], token));
        Assert.True(await TestFiles.ContentEqualsAsync(source, local.Combine("first.bin"), token));

        await RotKeepingTimeAsync(server.PathOf("stored.bin"), 5_000_000, 0xA5);

        var get = await CliRunner.RunAsync(server, [.. tls, "get", "stored.bin", local.Combine("second.bin")], token);

        var line = CliAssert.OneErrorLine(get, 4);
        Assert.Contains("do not match", line, StringComparison.Ordinal);
        Assert.False(File.Exists(local.Combine("second.bin")));
    }

    [Theory(Timeout = 60000)]
    [InlineData(SendFileUse.Always)]
    [InlineData(SendFileUse.RemotePeers)]
    public async Task A_stored_file_changed_with_a_new_time_is_hashed_again_as_it_is_sent(SendFileUse sendFile)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { SendFile = sendFile });
        using var local = new TempDirectory();
        var source = local.Combine("source.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 62, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["put", source, "stored.bin"], token));
        var stored = server.PathOf("stored.bin");
        await using (var file = new FileStream(stored, FileMode.Open, FileAccess.Write))
        {
            file.Position = 10;
            file.WriteByte(0x5A);
        }

        File.SetLastWriteTimeUtc(stored, DateTime.UtcNow.AddMinutes(-1));

        var get = await CliRunner.RunAsync(server, ["get", "stored.bin", local.Combine("copy.bin")], token);

        CliAssert.Success(get);
        Assert.True(await TestFiles.ContentEqualsAsync(stored, local.Combine("copy.bin"), token));
    }

    [Theory(Timeout = 120000)]
    [InlineData(SendFileUse.Always)]
    [InlineData(SendFileUse.RemotePeers)]
    public async Task A_get_of_a_stored_file_cut_midway_resumes_and_a_flipped_bit_is_caught(SendFileUse sendFile)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { SendFile = sendFile });
        await using var proxy = new FaultProxy(server);
        using var local = new TempDirectory();
        var source = local.Combine("source.bin");
        await TestFiles.WriteRandomAsync(source, Size, seed: 63, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["put", source, "stored.bin"], token));
        var destination = local.Combine("copy.bin");

        proxy.PlanNext(FaultPlan.Down(DirectionFaults.Cut(3L * 1024 * 1024, reset: true)));
        var resumed = await CliRunner.RunAsync(proxy.Address, ["--retries", "3", "get", "stored.bin", destination], token);
        proxy.PlanNext(FaultPlan.Down(DirectionFaults.Flip(5L * 1024 * 1024, bit: 3)));
        var flipped = await CliRunner.RunAsync(proxy.Address, ["get", "stored.bin", local.Combine("flipped.bin")], token);

        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("retry 1 of 3", resumed.Stderr, StringComparison.Ordinal);
        Assert.Contains("resumed after", resumed.Stdout, StringComparison.Ordinal);
        Assert.True(await TestFiles.ContentEqualsAsync(source, destination, token));
        Assert.Equal(4, flipped.ExitCode);
        Assert.False(File.Exists(local.Combine("flipped.bin")));
    }

    [Theory(Timeout = 60000)]
    [InlineData(SendFileUse.Always)]
    [InlineData(SendFileUse.RemotePeers)]
    public async Task A_stored_file_that_shrinks_while_it_is_sent_ends_the_connection_and_leaves_no_copy(SendFileUse sendFile)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { SendFile = sendFile });
        await using var proxy = new FaultProxy(server) { Plan = FaultPlan.Down(DirectionFaults.Stall(2L * 1024 * 1024)) };
        using var local = new TempDirectory();
        var source = local.Combine("source.bin");
        await TestFiles.WriteRandomAsync(source, 32L * 1024 * 1024, seed: 65, token);
        CliAssert.Success(await CliRunner.RunAsync(server, ["put", source, "stored.bin"], token));
        var destination = local.Combine("copy.bin");

        // The server is held mid-body (the proxy stops forwarding after 2 MiB), the stored file is cut short, then it goes on.
        var get = CliRunner.RunAsync(proxy.Address, ["--retries", "0", "get", "stored.bin", destination], token);
        var connection = await proxy.WaitForConnectionAsync(0, token);
        await connection.Downstream.StallStarted.WaitAsync(token);
        await using (var stored = new FileStream(server.PathOf("stored.bin"), FileMode.Open, FileAccess.Write))
        {
            stored.SetLength(1024 * 1024);
        }

        proxy.ReleaseStalls();
        var result = await get;

        CliAssert.OneErrorLine(result, 3);
        Assert.False(File.Exists(destination));
        await server.Log.WaitForAsync(m => m.Contains("Get stored.bin: failed with SizeMismatch", StringComparison.Ordinal), TimeSpan.FromSeconds(10), token);
    }

    /// <summary>Changes one byte of a stored file and puts its modification time back, as bit rot would leave it.</summary>
    private static async Task RotKeepingTimeAsync(string stored, long position, byte value)
    {
        var time = File.GetLastWriteTimeUtc(stored);
        await using (var file = new FileStream(stored, FileMode.Open, FileAccess.Write))
        {
            file.Position = position;
            file.WriteByte(value);
        }

        File.SetLastWriteTimeUtc(stored, time);
    }
}
