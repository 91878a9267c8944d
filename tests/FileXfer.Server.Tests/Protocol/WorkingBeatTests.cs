using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>
/// WorkingBeats: while a Hash (or a resumed Get's proof) waits on its store, the server sends Working frames for it every
/// interval of its clock, with the bytes hashed so far, to a client that announced the capability, and none to one that did not; the answer
/// comes after the last of them.
/// </summary>
public sealed class WorkingBeatTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    // Larger than one read of the hash loop (1 MiB), so the first read is done and the second is held.
    private const int FileSize = (3 * 1024 * 1024) + 17;
    private const int FirstRead = 1024 * 1024;

    [Fact(Timeout = 30000)]
    public async Task A_client_that_announced_working_beats_gets_working_frames_while_its_hash_is_held_then_the_right_hash()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        HeldReadStore? held = null;
        await using var server = Start(clock, s => held = new HeldReadStore(s));
        var content = RandomNumberGenerator.GetBytes(FileSize);
        await File.WriteAllBytesAsync(server.PathOf("big.bin"), content, token);
        await using var client = await server.ConnectAsync(token);

        var welcome = await client.HelloAsync(Messages.Hello(ProtocolLimits.Version, Capabilities.WorkingBeats, RawClient.Agent), token);
        Assert.True(((Capabilities)(welcome.GetUInt64OrNull(FieldTag.Capabilities) ?? 0)).HasFlag(Capabilities.WorkingBeats));
        await client.SendAsync(Messages.Hash(4, "big.bin", HashAlgorithms.Sha256), token);
        await held!.Holding.WaitAsync(token);
        Assert.True(clock.IsPending(Interval));

        for (int beat = 0; beat < 3; beat++)
        {
            clock.Advance(Interval);
            var working = await client.ReadAsync(MessageType.Working, token);
            Assert.Equal(4u, working.RequestId);
            Assert.Equal(FirstRead, Messages.ReadWorkingDone(working));
        }

        held.Release();
        var ok = await client.ReadAsync(MessageType.Ok, token);

        Assert.Equal(4u, ok.RequestId);
        Assert.Equal(FileSize, ok.GetSize(FieldTag.Size));
        Assert.Equal(SHA256.HashData(content), ok.GetBytes(FieldTag.HashValue));
    }

    [Fact(Timeout = 30000)]
    public async Task A_client_that_did_not_announce_working_beats_gets_only_the_answer_however_long_the_hash_was_held()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        HeldReadStore? held = null;
        await using var server = Start(clock, s => held = new HeldReadStore(s));
        var content = RandomNumberGenerator.GetBytes(FileSize);
        await File.WriteAllBytesAsync(server.PathOf("big.bin"), content, token);
        await using var client = await server.ConnectAsync(token);

        var welcome = await client.HelloAsync(Messages.Hello(ProtocolLimits.Version, Messages.Implemented & ~Capabilities.WorkingBeats, RawClient.Agent), token);
        Assert.False(((Capabilities)(welcome.GetUInt64OrNull(FieldTag.Capabilities) ?? 0)).HasFlag(Capabilities.WorkingBeats));
        await client.SendAsync(Messages.Hash(4, "big.bin", HashAlgorithms.Sha256), token);
        await held!.Holding.WaitAsync(token);
        Assert.False(clock.IsPending(Interval));
        clock.Advance(Interval * 10);
        held.Release();

        // The first frame after the held work is its answer: no Working reached this client before it.
        var ok = await client.ReadAsync(MessageType.Ok, token);
        Assert.Equal(SHA256.HashData(content), ok.GetBytes(FieldTag.HashValue));
    }

    [Fact(Timeout = 30000)]
    public async Task A_server_that_withholds_working_beats_does_not_announce_them_to_a_client_that_offers_them()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, handlerOptions: new FileXferHandlerOptions { WorkingBeats = false });
        await using var client = await server.ConnectAsync(token);

        var welcome = await client.HelloAsync(Messages.Hello(ProtocolLimits.Version, Messages.Implemented, RawClient.Agent), token);

        Assert.False(((Capabilities)(welcome.GetUInt64OrNull(FieldTag.Capabilities) ?? 0)).HasFlag(Capabilities.WorkingBeats));
    }

    [Fact(Timeout = 30000)]
    public async Task Pipelined_hashes_each_get_their_working_frames_before_their_answer_and_none_after_it()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        HeldReadStore? held = null;
        await using var server = Start(clock, s => held = new HeldReadStore(s));
        var content = RandomNumberGenerator.GetBytes(FileSize);
        await File.WriteAllBytesAsync(server.PathOf("big.bin"), content, token);
        await File.WriteAllBytesAsync(server.PathOf("small.bin"), "abc"u8.ToArray(), token);
        await using var client = await server.ConnectAsync(token);
        await client.HelloAsync(Messages.Hello(ProtocolLimits.Version, Capabilities.WorkingBeats, RawClient.Agent), token);

        await client.SendAsync(Messages.Hash(1, "big.bin", HashAlgorithms.Sha256), token);
        await client.SendAsync(Messages.Hash(2, "small.bin", HashAlgorithms.Sha256), token);
        await held!.Holding.WaitAsync(token);
        clock.Advance(Interval);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Working, 1);
        held.Release();

        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 1);
        var second = await client.ReadAsync(token);
        FrameAssert.Is(second, MessageType.Ok, 2);
        Assert.Equal(SHA256.HashData("abc"u8), second.GetBytes(FieldTag.HashValue));
        Assert.False(clock.IsPending(Interval));
    }

    [Fact(Timeout = 30000)]
    public async Task A_resumed_get_whose_proof_is_held_gets_working_frames_then_data_from_the_proven_offset()
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        HeldReadStore? held = null;
        await using var server = Start(clock, s => held = new HeldReadStore(s));
        var content = RandomNumberGenerator.GetBytes(FileSize);
        await File.WriteAllBytesAsync(server.PathOf("big.bin"), content, token);
        await using var client = await server.ConnectAsync(token);
        await client.HelloAsync(Messages.Hello(ProtocolLimits.Version, Capabilities.WorkingBeats | Capabilities.Resume, RawClient.Agent), token);
        const int Held = 2 * 1024 * 1024;

        await client.SendAsync(Messages.Get(6, "big.bin", HashAlgorithms.Sha256, Held, SHA256.HashData(content.AsSpan(0, Held))), token);
        await held!.Holding.WaitAsync(token);
        clock.Advance(Interval);
        var working = await client.ReadAsync(MessageType.Working, token);
        Assert.Equal(6u, working.RequestId);
        Assert.InRange(Messages.ReadWorkingDone(working), 1, Held - 1);
        held.Release();

        var data = await client.ReadAsync(MessageType.Data, token);
        Assert.Equal(6u, data.RequestId);
        Assert.Equal(Held, data.GetSize(FieldTag.Offset));
        Assert.Equal(content.AsSpan(Held).ToArray(), await client.ReadBodyAsync(FileSize - Held, token));
        var end = await client.ReadAsync(MessageType.BodyEnd, token);
        Assert.Equal(SHA256.HashData(content), end.GetBytes(FieldTag.HashValue));
        Assert.False(clock.IsPending(Interval));
    }

    [Theory]
    [InlineData(300, 1)]
    [InlineData(2, 0.5)]
    [InlineData(0, 1)]
    public void The_default_interval_is_a_quarter_of_the_idle_timeout_at_most_a_second(double idleSeconds, double intervalSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(intervalSeconds), WorkingBeat.IntervalFor(TimeSpan.FromSeconds(idleSeconds), FileXferHandlerOptions.MaxWorkingInterval));

    private static TestServer Start(TestClock clock, Func<Server.Storage.Local.FileStore, Server.Storage.IStore> served) =>
        new(root: null, handlerOptions: new FileXferHandlerOptions { WorkingInterval = Interval }, serverOptions: new TcpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(5), TimeProvider = clock }, served: served);
}
