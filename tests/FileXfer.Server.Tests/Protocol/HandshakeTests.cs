using System.Text;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Server.Storage.Local;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>The opening of a connection over a real socket: magic, Hello, Welcome, and what ends it early.</summary>
public sealed class HandshakeTests
{
    [Fact(Timeout = 30000)]
    public async Task A_good_hello_gets_the_magic_and_a_welcome()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(
            root: null,
            new FileStoreOptions { MaxFileSize = 123_456 },
            handlerOptions: new FileXferHandlerOptions { Agent = "filexfer-server/test" });
        await using var client = await server.ConnectAsync(token);

        var welcome = await client.HandshakeAsync(token);

        Assert.Equal(0u, welcome.RequestId);
        Assert.Equal(ProtocolLimits.Version, welcome.GetInt64OrNull(FieldTag.Version));
        Assert.Equal(0ul, welcome.GetUInt64OrNull(FieldTag.Capabilities));
        Assert.Equal("filexfer-server/test", welcome.GetStringOrNull(FieldTag.Agent));
        Assert.Equal(string.Join(',', HashAlgorithms.Supported), welcome.GetStringOrNull(FieldTag.HashAlgorithms));
        Assert.Equal(123_456, welcome.GetInt64OrNull(FieldTag.MaxFileSize));
        await server.Log.WaitForEventAsync(ServerEvents.HandshakeCompleted, 1, TimeSpan.FromSeconds(5), token);
        Assert.Contains(RawClient.Agent, server.Log.WithEvent(ServerEvents.HandshakeCompleted)[0].Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task A_newer_client_is_answered_with_the_version_the_server_speaks()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectAsync(token);

        await client.SendMagicAsync(token);
        await client.SendHelloAsync(ProtocolLimits.Version + 6, token);
        await client.ReadMagicAsync(token);
        var welcome = await client.ReadAsync(MessageType.Welcome, token);

        Assert.Equal(ProtocolLimits.Version, welcome.GetInt64OrNull(FieldTag.Version));
    }

    [Fact(Timeout = 30000)]
    public async Task Bad_magic_closes_the_connection_without_welcoming_it()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectAsync(token);

        await client.SendRawAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var answer = await client.ReadRawUntilClosedAsync(deadline.Token);

        Assert.False(answer.AsSpan().StartsWith(ProtocolLimits.Magic), "the server must not answer a stranger with its magic");
        await server.WaitForClosedConnectionsAsync(1, token);
        Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionFailed));
        Assert.Empty(server.Log.WithEvent(ServerEvents.HandshakeCompleted));
    }

    [Fact(Timeout = 30000)]
    public async Task A_first_frame_other_than_hello_is_a_protocol_violation_and_closes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectAsync(token);

        await client.SendMagicAsync(token);
        await client.SendAsync(Messages.PathRequest(MessageType.Stat, 7, "/"), token);
        await client.ReadMagicAsync(token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var frames = await client.ReadUntilClosedAsync(deadline.Token);

        var error = Assert.Single(frames);
        FrameAssert.IsError(error, ErrorCode.ProtocolViolation, 0);
    }

    [Fact(Timeout = 30000)]
    public async Task A_hello_without_a_version_is_a_protocol_violation()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectAsync(token);

        await client.SendMagicAsync(token);
        await client.SendAsync(new Frame(MessageType.Hello, 0, Field.String(FieldTag.Agent, "no-version")), token);
        await client.ReadMagicAsync(token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var frames = await client.ReadUntilClosedAsync(deadline.Token);

        FrameAssert.IsError(Assert.Single(frames), ErrorCode.ProtocolViolation, 0);
    }

    [Theory(Timeout = 30000)]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task A_version_below_the_oldest_supported_is_refused_and_closes(int version)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectAsync(token);

        await client.SendMagicAsync(token);
        await client.SendHelloAsync(version, token);
        await client.ReadMagicAsync(token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var frames = await client.ReadUntilClosedAsync(deadline.Token);

        FrameAssert.IsError(Assert.Single(frames), ErrorCode.UnsupportedVersion, 0);
    }

    [Theory(Timeout = 30000)]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task A_handshake_that_does_not_finish_in_time_is_closed(int bytesSent)
    {
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        var timeout = TimeSpan.FromSeconds(10);
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { HandshakeTimeout = timeout, TimeProvider = clock });
        await using var client = await server.ConnectAsync(token);
        await client.SendRawAsync(ProtocolLimits.Magic[..bytesSent].ToArray(), token);
        // The deadline starts at the accept, before the connection is logged as opened.
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 1, TimeSpan.FromSeconds(10), token);

        clock.Advance(timeout);
        var answer = await client.ReadRawUntilClosedAsync(token);

        Assert.Empty(answer);
        await HandshakeAssert.TimedOutAsync(server, "no handshake within 10 s of the accept", token);
    }

    [Fact(Timeout = 30000)]
    public async Task A_configured_handshake_timeout_closes_a_silent_connection_at_that_time_and_not_before()
    {
        // Two connections accepted at the same moment: 1 ms short of the timeout one of them still completes its handshake
        // (neither was closed before), the other, silent, is closed when the clock reaches the timeout.
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        var timeout = TimeSpan.FromSeconds(42.5);
        await using var server = new TestServer(
            root: null,
            handlerOptions: new FileXferHandlerOptions { IdleTimeout = TimeSpan.FromMinutes(5) },
            serverOptions: new TcpServerOptions { HandshakeTimeout = timeout, TimeProvider = clock });
        await using var silent = await server.ConnectAsync(token);
        await using var late = await server.ConnectAsync(token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 2, TimeSpan.FromSeconds(10), token);

        clock.Advance(timeout - TimeSpan.FromMilliseconds(1));
        var welcome = await late.HandshakeAsync(token);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var answer = await silent.ReadRawUntilClosedAsync(token);

        Assert.Equal(MessageType.Welcome, welcome.Type);
        Assert.Empty(answer);
        await HandshakeAssert.TimedOutAsync(server, "no handshake within 42.5 s of the accept", token);
        // The one that made it in time is served on.
        FrameAssert.Is(await late.PutAsync(1, "in-time.txt", "in time"u8.ToArray(), token), MessageType.Ok, 1);
    }

    [Fact(Timeout = 30000)]
    public async Task A_handshake_trickled_byte_by_byte_is_cut_off_at_the_deadline_from_the_accept()
    {
        // A slowloris: each byte is progress, which restarts an idle timeout; the handshake deadline is not restarted by
        // anything, so it bounds a client that sends its handshake a byte a second. (The idle timeout is longer here
        // only so that what closes the connection is the deadline.)
        var token = TestContext.Current.CancellationToken;
        var clock = new TestClock();
        await using var server = new TestServer(
            root: null,
            handlerOptions: new FileXferHandlerOptions { IdleTimeout = TimeSpan.FromMinutes(1) },
            serverOptions: new TcpServerOptions { HandshakeTimeout = TimeSpan.FromSeconds(10), TimeProvider = clock });
        await using var client = await server.ConnectAsync(token);
        await server.Log.WaitForEventAsync(ServerEvents.ConnectionOpened, 1, TimeSpan.FromSeconds(10), token);
        byte[] handshake = [.. ProtocolLimits.Magic, .. RawFrames.Of(Messages.Hello(ProtocolLimits.Version, Capabilities.None, RawClient.Agent))];

        for (int sent = 0; sent < 10; sent++)
        {
            await client.SendRawAsync(handshake.AsMemory(sent, 1), token);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Empty(await client.ReadRawUntilClosedAsync(token));
        await HandshakeAssert.TimedOutAsync(server, "no handshake within 10 s of the accept", token);
    }

    [Fact(Timeout = 30000)]
    public async Task A_client_that_leaves_during_the_handshake_does_not_stop_the_server()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using (var leaving = await server.ConnectAsync(token))
        {
            await leaving.SendRawAsync(ProtocolLimits.Magic.ToArray(), token);
        }

        await server.WaitForClosedConnectionsAsync(1, token);
        await using var client = await server.ConnectAsync(token);
        var welcome = await client.HandshakeAsync(token);

        Assert.Equal(MessageType.Welcome, welcome.Type);
    }
}
