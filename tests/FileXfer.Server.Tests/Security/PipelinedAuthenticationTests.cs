using System.Security.Cryptography;
using System.Text;
using FileXfer.Platform;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Security;

namespace FileXfer.Server.Tests.Security;

/// <summary>
/// Requests behind Authenticate over a real socket: sent in the same write as the Authenticate, they are read and
/// served only after the Ok; behind a refused Authenticate they are never acted upon, the Error still reaches the
/// client (the server stops sending and drains what follows until the client closes) and the connection closes.
/// </summary>
public sealed class PipelinedAuthenticationTests
{
    private const Capabilities Offered = Capabilities.Authentication | Capabilities.PipelinedAuthentication | Capabilities.Pipelining;

    [Fact(Timeout = 30000)]
    public async Task The_server_announces_the_capability_to_a_client_that_offers_it()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var offering = await server.ConnectAsync(token);
        await using var silent = await server.ConnectAsync(token);

        var welcome = await offering.HelloAsync(Messages.Hello(ProtocolLimits.Version, Offered, RawClient.Agent, SecureRandom.GetBytes(ProtocolLimits.AuthBytes)), token);
        var old = await silent.HandshakeWithNonceAsync(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), token);

        Assert.True(((Capabilities)welcome.GetUInt64OrNull(FieldTag.Capabilities)!.Value).HasFlag(Capabilities.PipelinedAuthentication));
        Assert.False(((Capabilities)old.GetUInt64OrNull(FieldTag.Capabilities)!.Value).HasFlag(Capabilities.PipelinedAuthentication));
    }

    [Fact(Timeout = 30000)]
    public async Task Requests_in_the_same_write_as_Authenticate_are_served_after_the_Ok()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await File.WriteAllTextAsync(server.PathOf("there.txt"), "hi", token);
        await using var client = await server.ConnectAsync(token);
        var (clientNonce, serverNonce) = await HandshakeAsync(client, token);

        await client.SendRawAsync(Concat(
            Authenticate("writer", AuthServer.WriterSecret, clientNonce, serverNonce),
            Messages.PathRequest(MessageType.Stat, 1, "there.txt"),
            Messages.List(2, string.Empty, ListFlags.None)), token);

        var ok = await client.ReadAsync(MessageType.Ok, token);
        Assert.Equal(0u, ok.RequestId);
        Assert.Equal(AuthProof.ForServer(Encoding.UTF8.GetBytes(AuthServer.WriterSecret), clientNonce, serverNonce, "writer"), ok.GetBytes(FieldTag.ServerProof));
        var stat = await client.ReadAsync(MessageType.Ok, token);
        Assert.Equal((1u, 2L), (stat.RequestId, stat.GetSize(FieldTag.Size)));
        var names = new List<string>();
        Frame next;
        while ((next = await client.ReadAsync(token)).Type == MessageType.Entry)
        {
            Assert.Equal(2u, next.RequestId);
            names.Add(next.GetString(FieldTag.Name));
        }

        FrameAssert.Is(next, MessageType.EndOfList, 2);
        Assert.Contains("there.txt", names);
        // The challenge is logged before the requests: they were read after it succeeded.
        await server.Log.WaitForEventAsync(ServerEvents.RequestCompleted, 2, TimeSpan.FromSeconds(5), token);
        var events = server.Log.Entries.Select(e => e.EventId.Id).Where(id => id is ServerEvents.AuthenticationSucceeded or ServerEvents.RequestCompleted).ToList();
        Assert.Equal([ServerEvents.AuthenticationSucceeded, ServerEvents.RequestCompleted, ServerEvents.RequestCompleted], events);
    }

    [Fact(Timeout = 30000)]
    public async Task Requests_behind_a_wrong_secret_are_never_acted_upon_and_the_Error_arrives()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var client = await server.ConnectAsync(token);
        var (clientNonce, serverNonce) = await HandshakeAsync(client, token);
        var body = new byte[64 * 1024];

        // A NoWait put with its body, a directory and a delete, all in the write that carries the Authenticate.
        await client.SendRawAsync(Concat(
            [Authenticate("writer", AuthServer.ReaderSecret, clientNonce, serverNonce),
             Messages.Put(1, "sneaky.bin", body.Length, HashAlgorithms.Sha256, modified: null, mode: null, PutFlags.NoWait)],
            body,
            [Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(body)),
             Messages.MakeDirectory(2, "made", modified: null, mode: null),
             Messages.PathRequest(MessageType.Delete, 3, "kept.txt")]), token);

        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.AuthenticationFailed, 0);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        Assert.Empty(await client.ReadUntilClosedAsync(deadline.Token));
        client.ShutdownSend();
        await server.Log.WaitForEventAsync(ServerEvents.RefusedRequestsDropped, 1, TimeSpan.FromSeconds(10), token);

        Assert.False(File.Exists(server.PathOf("sneaky.bin")));
        Assert.False(Directory.Exists(server.PathOf("made")));
        Assert.Empty(server.TempFiles());
        Assert.Empty(server.Log.WithEvent(ServerEvents.RequestCompleted));
        Assert.Empty(server.Log.WithEvent(ServerEvents.RequestFailed));
    }

    [Fact(Timeout = 30000)]
    public async Task After_a_refusal_the_server_stops_sending_and_reads_what_follows_until_the_client_closes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var client = await server.ConnectAsync(token);
        var (clientNonce, serverNonce) = await HandshakeAsync(client, token);
        await client.SendAsync(Authenticate("nobody", AuthServer.WriterSecret, clientNonce, serverNonce), token);

        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.AuthenticationFailed, 0);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        // End of stream (its side shut), not a reset: and what this side still sends is taken, not refused.
        Assert.Empty(await client.ReadRawUntilClosedAsync(deadline.Token));
        var more = new byte[256 * 1024];
        await client.SendRawAsync(more, token);
        await client.SendRawAsync(more, token);
        client.ShutdownSend();

        await server.Log.WaitForEventAsync(ServerEvents.RefusedRequestsDropped, 1, TimeSpan.FromSeconds(10), token);
        var dropped = Assert.Single(server.Log.WithEvent(ServerEvents.RefusedRequestsDropped));
        Assert.Contains($"{2 * more.Length} bytes", dropped.Message, StringComparison.Ordinal);
        Assert.Contains("the client closed", dropped.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task A_read_only_token_s_pipelined_put_is_denied_and_the_connection_stays_usable()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var client = await server.ConnectAsync(token);
        var (clientNonce, serverNonce) = await HandshakeAsync(client, token);
        var body = "abc"u8.ToArray();

        await client.SendRawAsync(Concat(
            [Authenticate("reader", AuthServer.ReaderSecret, clientNonce, serverNonce),
             Messages.Put(1, "denied.txt", body.Length, HashAlgorithms.Sha256, modified: null, mode: null, PutFlags.NoWait)],
            body,
            [Messages.BodyEnd(1, HashAlgorithms.Sha256, SHA256.HashData(body)),
             Messages.PathRequest(MessageType.Stat, 2, string.Empty)]), token);

        var ok = await client.ReadAsync(MessageType.Ok, token);
        Assert.Equal(0u, ok.RequestId);
        Assert.Null(ok.GetUInt64OrNull(FieldTag.Flags));
        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.AccessDenied, 1);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 2);
    }

    private static async Task<(byte[] ClientNonce, byte[] ServerNonce)> HandshakeAsync(RawClient client, CancellationToken cancellationToken)
    {
        var clientNonce = SecureRandom.GetBytes(ProtocolLimits.AuthBytes);
        var welcome = await client.HelloAsync(Messages.Hello(ProtocolLimits.Version, Offered, RawClient.Agent, clientNonce), cancellationToken);
        return (clientNonce, welcome.GetBytes(FieldTag.ServerNonce));
    }

    private static Frame Authenticate(string name, string secret, byte[] clientNonce, byte[] serverNonce) =>
        Messages.Authenticate(name, AuthProof.ForClient(Encoding.UTF8.GetBytes(secret), clientNonce, serverNonce, name));

    private static byte[] Concat(params Frame[] frames) => [.. frames.SelectMany(FrameCodec.ToArray)];

    private static byte[] Concat(Frame[] before, byte[] body, Frame[] after) => [.. Concat(before), .. body, .. Concat(after)];
}
