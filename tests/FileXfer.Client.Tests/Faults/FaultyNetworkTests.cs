
namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// The real command line and the real server with a <see cref="FaultProxy"/> between them: bytes sliced, flipped,
/// cut and stalled on the wire. A transfer either succeeds byte-exact or fails with the right exit code, and a
/// failure leaves no file under the real name, nothing in the server's staging area and no local temp file. The
/// client has no retries yet: each fault hits the first (and only) attempt; a second run through the same proxy
/// gets a clean connection.
/// </summary>
public class FaultyNetworkTests
{
    private const int FileSize = 1024 * 1024;

    // The frames ahead of a body (magic, Hello or Welcome, Put or Data) take well under 1 KiB, so these offsets of
    // the byte stream fall inside the body of a 1 MiB file.
    private const long FlipOffset = 200_000;
    private const long CutOffset = 500_000;

    // What a put or get adds to the body on the wire: the handshake, the request and its answers.
    private const long ProtocolOverhead = 4096;

    [Fact(Timeout = 300000)]
    public async Task Put_and_get_succeed_byte_exact_when_every_byte_travels_in_its_own_write()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server) { Plan = FaultPlan.Both(DirectionFaults.Slice(1)) };
        using var local = new TempDirectory();
        var source = local.Combine("data.bin");
        await TestFiles.WriteRandomAsync(source, FileSize, seed: 21, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["put", source, "data.bin"], token);

        CliAssert.Success(put);
        Assert.True(await TestFiles.ContentEqualsAsync(source, server.PathOf("data.bin"), token));
        long upstream = proxy.UpstreamBytes;
        long downstream = proxy.DownstreamBytes;
        Assert.InRange(upstream, FileSize, FileSize + ProtocolOverhead);
        Assert.InRange(downstream, 1, ProtocolOverhead);
        Assert.Equal(upstream, proxy.AcceptedConnections[0].Upstream.Writes);

        var back = local.Combine("back.bin");
        var get = await CliRunner.RunAsync(proxy.Address, ["get", "data.bin", back], token);

        CliAssert.Success(get);
        Assert.True(await TestFiles.ContentEqualsAsync(source, back, token));
        Assert.InRange(proxy.DownstreamBytes - downstream, FileSize, FileSize + ProtocolOverhead);
        Assert.InRange(proxy.UpstreamBytes - upstream, 1, ProtocolOverhead);
        Assert.Equal(2, proxy.Connections);
        Assert.Equal(["back.bin", "data.bin"], TestFiles.ListRelative(local.Path));
    }

    [Fact(Timeout = 60000)]
    public async Task A_bit_flipped_in_a_put_body_is_refused_by_the_server_and_the_old_file_stays()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Flip(FlipOffset, bit: 4)));
        using var local = new TempDirectory();
        var source = local.Combine("data.bin");
        await TestFiles.WriteRandomAsync(source, FileSize, seed: 22, token);
        await File.WriteAllTextAsync(server.PathOf("data.bin"), "old content", token);

        var put = await CliRunner.RunAsync(proxy.Address, ["put", source, "data.bin"], token);

        var line = CliAssert.OneErrorLine(put, 4);
        Assert.Contains("does not match", line, StringComparison.Ordinal);
        Assert.True(proxy.AcceptedConnections[0].Upstream.Flipped);
        Assert.Equal("old content", await File.ReadAllTextAsync(server.PathOf("data.bin"), token));
        // The server drops the staged file before it answers, so it is gone by the time the client has its answer.
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.StagingDirectory));
        Assert.Equal(["data.bin"], RootEntries(server));
        await server.Log.WaitForAsync(m => m.Contains("Put data.bin: failed with IntegrityMismatch", StringComparison.Ordinal), TimeSpan.FromSeconds(10), token);

        await AssertCleanPutAsync(proxy, server, source, token);
    }

    [Fact(Timeout = 60000)]
    public async Task A_bit_flipped_in_a_get_body_is_caught_by_the_client_and_the_local_file_stays()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Down(DirectionFaults.Flip(FlipOffset, bit: 0)));
        await TestFiles.WriteRandomAsync(server.PathOf("data.bin"), FileSize, seed: 23, token);
        using var local = new TempDirectory();
        var destination = local.Combine("dest.bin");
        await File.WriteAllTextAsync(destination, "old local content", token);

        var get = await CliRunner.RunAsync(proxy.Address, ["get", "data.bin", destination], token);

        var line = CliAssert.OneErrorLine(get, 4);
        Assert.Contains("do not match", line, StringComparison.Ordinal);
        Assert.True(proxy.AcceptedConnections[0].Downstream.Flipped);
        Assert.Equal("old local content", await File.ReadAllTextAsync(destination, token));
        Assert.Equal(["dest.bin"], TestFiles.ListRelative(local.Path));

        await AssertCleanGetAsync(proxy, server, destination, token);
    }

    [Theory(Timeout = 60000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_put_cut_mid_body_is_a_connection_error_and_the_server_keeps_the_partial_only_for_resuming(bool reset)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(CutOffset, reset)));
        using var local = new TempDirectory();
        var source = local.Combine("data.bin");
        await TestFiles.WriteRandomAsync(source, FileSize, seed: 24, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["put", source, "data.bin"], token);

        // Which error the client meets depends on where it is when the cut reaches it (writing the body, or already
        // waiting for the answer), so only the exit code is certain.
        CliAssert.OneErrorLine(put, 3);
        var connection = proxy.AcceptedConnections[0];
        Assert.True(connection.Upstream.WasCut);
        Assert.Equal(CutOffset, connection.Upstream.Bytes);
        Assert.False(File.Exists(server.PathOf("data.bin")));
        // The client may be gone before the server has read the end of the stream: wait for the server to see it.
        await server.Log.WaitForAsync(m => m.Contains("Put data.bin: failed with ConnectionLost", StringComparison.Ordinal), TimeSpan.FromSeconds(30), token);

        // What arrived stays in the staging area as a resumable partial, never under the real name.
        var partial = Assert.Single(Directory.GetFiles(server.StagingDirectory));
        Assert.EndsWith(".resume", partial, StringComparison.Ordinal);
        Assert.Empty(RootEntries(server));

        await AssertCleanPutAsync(proxy, server, source, token);
        Assert.Empty(Directory.GetFiles(server.StagingDirectory));
    }

    [Theory(Timeout = 60000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_get_cut_mid_body_is_a_connection_error_and_the_local_file_stays(bool reset)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Down(DirectionFaults.Cut(CutOffset, reset)));
        await TestFiles.WriteRandomAsync(server.PathOf("data.bin"), FileSize, seed: 25, token);
        using var local = new TempDirectory();
        var destination = local.Combine("dest.bin");
        await File.WriteAllTextAsync(destination, "old local content", token);

        var get = await CliRunner.RunAsync(proxy.Address, ["get", "data.bin", destination], token);

        var line = CliAssert.OneErrorLine(get, 3);
        if (!reset)
        {
            // An orderly cut: the client reads the bytes before it, then the end of the stream inside the body.
            Assert.Contains("in the middle of a body", line, StringComparison.Ordinal);
        }

        var connection = proxy.AcceptedConnections[0];
        Assert.True(connection.Downstream.WasCut);
        Assert.Equal(CutOffset, connection.Downstream.Bytes);
        Assert.Equal("old local content", await File.ReadAllTextAsync(destination, token));

        // What arrived is kept beside the destination, under a temp name, for the next get to resume.
        Assert.Equal([".dest.bin.resume.filexfer-part", "dest.bin"], TestFiles.ListRelative(local.Path).Order(StringComparer.Ordinal));

        await AssertCleanGetAsync(proxy, server, destination, token);
        Assert.Equal(["dest.bin"], TestFiles.ListRelative(local.Path));
    }

    [Theory(Timeout = 60000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_handshake_that_stalls_fails_at_the_connect_timeout(bool upstream)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var stall = DirectionFaults.Stall(0);
        await using var proxy = new FaultProxy(server) { Plan = upstream ? FaultPlan.Up(stall) : FaultPlan.Down(stall) };

        var ls = await CliRunner.RunAsync(proxy.Address, ["--connect-timeout", "1", "ls"], token);

        var line = CliAssert.OneErrorLine(ls, 3);
        Assert.Contains("no answer within 1 s", line, StringComparison.Ordinal);
        var flow = upstream ? proxy.AcceptedConnections[0].Upstream : proxy.AcceptedConnections[0].Downstream;
        Assert.True(flow.StallStarted.IsCompleted);
        Assert.Equal(0, flow.Bytes);
    }

    /// <summary>A second put through the proxy gets a clean connection and stores the file.</summary>
    private static async Task AssertCleanPutAsync(FaultProxy proxy, TestServer server, string source, CancellationToken cancellationToken)
    {
        var retry = await CliRunner.RunAsync(proxy.Address, ["put", source, "data.bin"], cancellationToken);
        CliAssert.Success(retry);
        Assert.Equal(FaultPlan.Clean, proxy.AcceptedConnections[^1].Plan);
        Assert.True(await TestFiles.ContentEqualsAsync(source, server.PathOf("data.bin"), cancellationToken));
        Assert.Empty(Directory.EnumerateFileSystemEntries(server.StagingDirectory));
    }

    /// <summary>A second get through the proxy gets a clean connection and replaces the local file.</summary>
    private static async Task AssertCleanGetAsync(FaultProxy proxy, TestServer server, string destination, CancellationToken cancellationToken)
    {
        var retry = await CliRunner.RunAsync(proxy.Address, ["get", "data.bin", destination], cancellationToken);
        CliAssert.Success(retry);
        Assert.Equal(FaultPlan.Clean, proxy.AcceptedConnections[^1].Plan);
        Assert.True(await TestFiles.ContentEqualsAsync(server.PathOf("data.bin"), destination, cancellationToken));
        Assert.Equal([Path.GetFileName(destination)], TestFiles.ListRelative(Path.GetDirectoryName(destination)!));
    }

    /// <summary>The names in the server's root, without its reserved directory.</summary>
    private static string[] RootEntries(TestServer server) =>
        [.. Directory.GetFileSystemEntries(server.Root).Select(Path.GetFileName).OfType<string>().Where(n => n != ".filexfer")];
}
