using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Net;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;

namespace FileXfer.Client.Tests;

/// <summary>
/// WorkingBeats at the client: a hash the server works on for longer than the client's idle timeout completes when the
/// server sends Working frames (the real server over a store that holds its reads, each side on a fake clock of its
/// own), fails as stalled when it does not, and a Working frame for another request, or from a server without the
/// capability, is a protocol error.
/// </summary>
public sealed class WorkingBeatClientTests
{
    private static readonly TimeSpan ClientIdle = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private const int FileSize = (2 * 1024 * 1024) + 5;

    [Fact(Timeout = 30000)]
    public async Task A_hash_held_longer_than_the_idle_timeout_completes_with_the_right_hash_when_the_server_sends_working_frames()
    {
        var token = TestContext.Current.CancellationToken;
        await using var setup = await HeldSetup.StartAsync(workingBeats: true, token);
        Assert.True(setup.Client.Capabilities.HasFlag(Capabilities.WorkingBeats));

        var hashing = setup.Client.HashAsync("big.bin", null, token);
        await setup.Held.Holding.WaitAsync(token);

        // Twelve seconds of the client's clock pass, more than twice its idle timeout, two at a time: each time after
        // the client read a Working frame and started its next read (a timer of its clock).
        for (int i = 0; i < 6; i++)
        {
            var read = setup.ClientClock.NextTimerAsync();
            setup.ServerClock.Advance(Interval);
            await read.WaitAsync(token);
            setup.ClientClock.Advance(ClientIdle * 0.4);
        }

        setup.Held.Release();
        var result = await hashing.WaitAsync(token);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(setup.Content)), result.HashHex);
        Assert.Equal(FileSize, result.Size);
    }

    [Fact(Timeout = 30000)]
    public async Task A_hash_held_longer_than_the_idle_timeout_fails_as_stalled_when_the_server_withholds_working_beats()
    {
        var token = TestContext.Current.CancellationToken;
        await using var setup = await HeldSetup.StartAsync(workingBeats: false, token);
        Assert.False(setup.Client.Capabilities.HasFlag(Capabilities.WorkingBeats));

        var hashing = setup.Client.HashAsync("big.bin", null, token);
        await setup.Held.Holding.WaitAsync(token);
        var failure = await Assert.ThrowsAsync<ConnectionLostException>(() => setup.ClientClock.AdvanceUntilAsync(hashing, ClientIdle, token));

        Assert.Contains("stalled", failure.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task A_hash_batch_accepts_working_frames_before_each_answer()
    {
        var token = TestContext.Current.CancellationToken;
        await using var setup = await HeldSetup.StartAsync(workingBeats: true, token);
        await File.WriteAllBytesAsync(setup.Server.PathOf("small.txt"), "abc"u8.ToArray(), token);
        var results = new List<BatchItemResult>();

        var hashing = setup.Client.HashBatchAsync(["big.bin", "small.txt"], r => { results.Add(r); return ValueTask.CompletedTask; }, token);
        await setup.Held.Holding.WaitAsync(token);
        for (int i = 0; i < 3; i++)
        {
            var read = setup.ClientClock.NextTimerAsync();
            setup.ServerClock.Advance(Interval);
            await read.WaitAsync(token);
            setup.ClientClock.Advance(ClientIdle * 0.4);
        }

        setup.Held.Release();
        await hashing.WaitAsync(token);

        Assert.Equal(["big.bin", "small.txt"], results.Select(r => r.RemotePath));
        Assert.All(results, r => Assert.Null(r.Error));
        Assert.Equal(SHA256.HashData(setup.Content), results[0].Hash);
        Assert.Equal(SHA256.HashData("abc"u8), results[1].Hash);
    }

    [Theory(Timeout = 30000)]
    [InlineData(1u, Capabilities.WorkingBeats, "while")]
    [InlineData(0u, Capabilities.None, "without the WorkingBeats capability")]
    public async Task A_working_frame_for_another_request_or_without_the_capability_is_a_protocol_error(uint offset, Capabilities capabilities, string said)
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(HashWithWorking(offset), capabilities);
        await using var client = await FileXferClient.ConnectAsync(hostile.EndPoint, options: null, token);

        var failure = await Assert.ThrowsAsync<ProtocolViolationException>(() => client.HashAsync("a.txt", null, token));

        Assert.Contains(said, failure.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task The_hash_command_prints_the_hash_after_any_number_of_working_frames()
    {
        var token = TestContext.Current.CancellationToken;
        await using var hostile = new HostileServer(HashWithWorking(0), Capabilities.WorkingBeats);

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "hash", "a.txt"], token);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData("abc"u8)), run.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task A_get_takes_working_frames_before_its_data()
    {
        var token = TestContext.Current.CancellationToken;
        using var sandbox = new TempDirectory();
        var body = "what the server sent\n"u8.ToArray();
        await using var hostile = new HostileServer(
            async (connection, request, ct) =>
            {
                await connection.Writer.WriteAsync(Messages.Working(request.RequestId, 7), ct);
                await HostileServer.SendBody(body, SHA256.HashData(body))(connection, request, ct);
            },
            Capabilities.WorkingBeats);

        var run = await CliRunner.RunAsync(hostile.Address, ["--retries", "0", "get", "a.txt", sandbox.Combine("a.txt")], token);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(body, await File.ReadAllBytesAsync(sandbox.Combine("a.txt"), token));
    }

    /// <summary>Answers a Hash of "abc" after three Working frames for the request <paramref name="offset"/> after it.</summary>
    private static Func<HostileConnection, Frame, CancellationToken, Task> HashWithWorking(uint offset) =>
        async (connection, request, cancellationToken) =>
        {
            for (int i = 0; i < 3; i++)
            {
                await connection.Writer.WriteAsync(Messages.Working(request.RequestId + offset, i * 1000L), cancellationToken);
            }

            await connection.Writer.WriteAsync(Messages.HashOk(request.RequestId, request.GetString(FieldTag.Path), 3, request.GetString(FieldTag.HashAlgorithm), SHA256.HashData("abc"u8)), cancellationToken);
        };

    /// <summary>The real server over a <see cref="HeldReadStore"/> on a fake clock, a 2 MiB file in it, and a client on another.</summary>
    private sealed class HeldSetup : IAsyncDisposable
    {
        private HeldSetup(TestServer server, HeldReadStore held, TestClock serverClock, TestClock clientClock, byte[] content, FileXferClient client)
        {
            Server = server;
            Held = held;
            ServerClock = serverClock;
            ClientClock = clientClock;
            Content = content;
            Client = client;
        }

        public TestServer Server { get; }

        public HeldReadStore Held { get; }

        public TestClock ServerClock { get; }

        public TestClock ClientClock { get; }

        public byte[] Content { get; }

        public FileXferClient Client { get; }

        public static async Task<HeldSetup> StartAsync(bool workingBeats, CancellationToken cancellationToken)
        {
            var serverClock = new TestClock();
            var clientClock = new TestClock();
            HeldReadStore? held = null;
            var server = new TestServer(
                root: null,
                handlerOptions: new FileXferHandlerOptions { WorkingBeats = workingBeats, WorkingInterval = Interval },
                serverOptions: new TcpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(5), TimeProvider = serverClock },
                served: store => held = new HeldReadStore(store));
            try
            {
                var content = RandomNumberGenerator.GetBytes(FileSize);
                await File.WriteAllBytesAsync(server.PathOf("big.bin"), content, cancellationToken);
                var client = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), new FileXferClientOptions { IdleTimeout = ClientIdle, TimeProvider = clientClock }, cancellationToken);
                return new HeldSetup(server, held!, serverClock, clientClock, content, client);
            }
            catch (Exception)
            {
                await server.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            // A held read would keep the server's connection (and its stop) waiting.
            Held.Release();
            await Client.DisposeAsync();
            await Server.DisposeAsync();
        }
    }
}
