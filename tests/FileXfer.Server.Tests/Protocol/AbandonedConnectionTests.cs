using System.Security.Cryptography;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Tests.Protocol;

/// <summary>
/// The fence against abandoned attempts, on the wire: once a later connection of a client's run declared an earlier
/// one abandoned, nothing more the earlier one carries takes effect, whatever stage its request is in.
/// </summary>
public sealed class AbandonedConnectionTests
{
    private static readonly byte[] Run = RandomNumberGenerator.GetBytes(16);

    [Fact(Timeout = 30000)]
    public async Task A_put_whose_body_ends_after_its_connection_was_declared_abandoned_is_refused_and_not_stored()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var stale = "stale"u8.ToArray();

        // The first attempt is under way: its Put was accepted and its body sent, but not its end.
        await using var first = await server.ConnectAsync(token);
        await first.HandshakeWithAsync(null, new RunTicket(Run, 1, []), token);
        FrameAssert.Is(await first.StartPutAsync(1, "x", stale.Length, token), MessageType.Ready, 1);
        await first.SendRawAsync(stale, token);

        // The client gave it up: its retry declares it abandoned and stores x; then another client stores x.
        await using (var retry = await server.ConnectAsync(token))
        {
            await retry.HandshakeWithAsync(null, new RunTicket(Run, 2, [1]), token);
            FrameAssert.Is(await retry.PutAsync(1, "x", "retry"u8.ToArray(), token), MessageType.Ok, 1);
        }

        await using (var later = await server.ConnectReadyAsync(token))
        {
            FrameAssert.Is(await later.PutAsync(1, "x", "later"u8.ToArray(), token), MessageType.Ok, 1);
        }

        // The stale body's end arrives.
        await first.SendAsync(Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(stale)), token);
        var answer = await first.ReadAsync(token);

        FrameAssert.IsError(answer, ErrorCode.TransferAborted, 1);
        Assert.Equal("later", await File.ReadAllTextAsync(server.PathOf("x"), token));
        Assert.Empty(server.TempFiles());
    }

    [Fact(Timeout = 30000)]
    public async Task A_request_arriving_on_a_connection_declared_abandoned_is_not_carried_out_and_the_connection_closes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllTextAsync(server.PathOf("keep"), "kept", token);
        await using var first = await server.ConnectAsync(token);
        await first.HandshakeWithAsync(null, new RunTicket(Run, 1, []), token);
        await using var retry = await server.ConnectAsync(token);
        await retry.HandshakeWithAsync(null, new RunTicket(Run, 2, [1]), token);

        await first.SendAsync(Messages.PathRequest(MessageType.Delete, 1, "keep"), token);

        Assert.Empty(await first.ReadUntilClosedAsync(token));
        Assert.Equal("kept", await File.ReadAllTextAsync(server.PathOf("keep"), token));
        Assert.Single(server.Log.WithEvent(20));
        // The connection that declared it goes on as usual.
        FrameAssert.Is(await retry.PutAsync(1, "y", "fine"u8.ToArray(), token), MessageType.Ok, 1);
    }

    [Fact(Timeout = 30000)]
    public async Task A_declaration_counts_only_within_the_token_that_made_it()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var writer = await server.ConnectAsync(token);
        FrameAssert.Is((await writer.AuthenticateAsync("writer", AuthServer.WriterSecret, new RunTicket(Run, 1, []), token)).Answer, MessageType.Ok, 0);

        // Another token naming the writer's run (by chance or on purpose) fences nothing of the writer's.
        await using (var reader = await server.ConnectAsync(token))
        {
            FrameAssert.Is((await reader.AuthenticateAsync("reader", AuthServer.ReaderSecret, new RunTicket(Run, 2, [1]), token)).Answer, MessageType.Ok, 0);
        }

        FrameAssert.Is(await writer.PutAsync(1, "a", "first"u8.ToArray(), token), MessageType.Ok, 1);

        // The writer's own next connection does.
        await using (var again = await server.ConnectAsync(token))
        {
            FrameAssert.Is((await again.AuthenticateAsync("writer", AuthServer.WriterSecret, new RunTicket(Run, 3, [1]), token)).Answer, MessageType.Ok, 0);
        }

        await writer.SendAsync(Messages.PathRequest(MessageType.Delete, 2, "a"), token);
        Assert.Empty(await writer.ReadUntilClosedAsync(token));
        Assert.Equal("first", await File.ReadAllTextAsync(server.PathOf("a"), token));
    }

    [Fact(Timeout = 30000)]
    public async Task A_hello_declaring_a_connection_that_is_not_an_earlier_one_of_its_run_is_refused()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectAsync(token);
        await client.SendMagicAsync(token);
        var hello = new Frame(MessageType.Hello, 0,
        [
            Field.Integer(FieldTag.Version, ProtocolLimits.Version),
            Field.Bytes(FieldTag.RunId, Run),
            Field.Unsigned(FieldTag.ConnectionNumber, 2),
            Field.Bytes(FieldTag.Abandoned, [7, 0, 0, 0]),
        ]);
        await client.SendAsync(hello, token);
        await client.ReadMagicAsync(token);

        var error = await client.ReadAsync(token);

        FrameAssert.IsError(error, ErrorCode.ProtocolViolation, 0);
        Assert.Contains("connection 7", error.GetString(FieldTag.Message), StringComparison.Ordinal);
    }
}
