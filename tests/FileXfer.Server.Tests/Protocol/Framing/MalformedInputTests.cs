using FileXfer.Protocol;
using FileXfer.Protocol.Framing;

namespace FileXfer.Server.Tests.Protocol.Framing;

/// <summary>Frames the server cannot keep in step with: it answers with an error and closes that connection only.</summary>
public sealed class MalformedInputTests
{
    [Theory(Timeout = 30000)]
    [InlineData(0x7E)]
    [InlineData((byte)MessageType.Ok)]
    [InlineData((byte)MessageType.Hello)]
    [InlineData((byte)MessageType.BodyEnd)]
    public async Task A_message_that_is_not_a_request_is_unknown_and_closes(byte type)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(new Frame((MessageType)type, 77, Field.String(FieldTag.Path, "x")), token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var frames = await client.ReadUntilClosedAsync(deadline.Token);

        FrameAssert.IsError(Assert.Single(frames), ErrorCode.UnknownMessage, 77);
    }

    [Theory(Timeout = 30000)]
    [InlineData(ProtocolLimits.MaxFrameLength + 1u, 0)]
    [InlineData(uint.MaxValue, 0)]
    [InlineData(2u, 0)]
    [InlineData(100u, 0x80)]
    public async Task A_frame_with_a_bad_length_or_flags_is_a_protocol_violation_and_closes(uint length, byte flags)
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendRawAsync(RawFrames.Header(length, (byte)MessageType.Stat, flags, requestId: 5), token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var frames = await client.ReadUntilClosedAsync(deadline.Token);

        FrameAssert.IsError(Assert.Single(frames), ErrorCode.ProtocolViolation, 0);
        await server.WaitForClosedConnectionsAsync(1, token);
    }

    [Fact(Timeout = 30000)]
    public async Task A_request_without_its_path_is_a_protocol_violation_and_closes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectReadyAsync(token);

        await client.SendAsync(new Frame(MessageType.Stat, 4), token);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        var frames = await client.ReadUntilClosedAsync(deadline.Token);

        FrameAssert.IsError(Assert.Single(frames), ErrorCode.ProtocolViolation, 4);
    }

    [Fact(Timeout = 30000)]
    public async Task A_connection_closed_inside_a_frame_is_logged_and_the_server_serves_on()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using (var client = await server.ConnectReadyAsync(token))
        {
            var frame = RawFrames.Of(Messages.PathRequest(MessageType.Stat, 1, "some/long/path.txt"));
            await client.SendRawAsync(frame.AsMemory(0, frame.Length - 3), token);
        }

        await server.WaitForClosedConnectionsAsync(1, token);
        await using var next = await server.ConnectReadyAsync(token);
        await next.SendAsync(Messages.PathRequest(MessageType.Stat, 2, "/"), token);

        FrameAssert.Is(await next.ReadAsync(token), MessageType.Ok, 2);
        Assert.Single(server.Log.WithEvent(ServerEvents.ConnectionFailed));
    }
}
