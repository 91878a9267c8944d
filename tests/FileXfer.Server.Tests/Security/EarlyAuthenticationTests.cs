using System.Text;
using FileXfer.Platform;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Security;
using FileXfer.Server.Security;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Server.Tests.Security;

/// <summary>
/// Early authentication over a real socket: a run's first connection authenticates by the challenge and gets a
/// ticket; its later connections prove the token in their Hello over it, each connection number once. A ticket that
/// cannot serve (another run, another token, replayed, expired) leaves the challenge to follow; a wrong proof fails.
/// </summary>
public sealed class EarlyAuthenticationTests
{
    private const Capabilities Offered = Capabilities.Authentication | Capabilities.EarlyAuthentication;
    private static readonly byte[] WriterSecret = Encoding.UTF8.GetBytes(AuthServer.WriterSecret);

    [Fact(Timeout = 30000)]
    public async Task A_later_connection_of_the_run_authenticates_in_its_hello_and_the_server_proves_it_knows_the_secret()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        var run = NewRun();
        var ticket = await FirstConnectionTicketAsync(server, run, "writer", AuthServer.WriterSecret, token);

        await using var second = await server.ConnectAsync(token);
        var clientNonce = SecureRandom.GetBytes(ProtocolLimits.AuthBytes);
        var welcome = await second.HelloAsync(EarlyHello(clientNonce, run, 2, "writer", WriterSecret, ticket), token);

        Assert.Null(welcome.GetBytesOrNull(FieldTag.ServerNonce));
        Assert.Equal(AuthProof.ForRunServer(WriterSecret, clientNonce, ticket, run, 2, "writer"), welcome.GetBytes(FieldTag.ServerProof));
        Assert.Equal((ulong)AccessFlags.Write, welcome.GetUInt64OrNull(FieldTag.Flags));
        // No Authenticate: the first request is served at once.
        FrameAssert.Is(await second.PutAsync(1, "early.txt", "abc"u8.ToArray(), token), MessageType.Ok, 1);
        Assert.Equal("abc", await File.ReadAllTextAsync(server.PathOf("early.txt"), token));
        await server.Log.WaitForEventAsync(ServerEvents.TicketAccepted, 1, TimeSpan.FromSeconds(5), token);
    }

    [Fact(Timeout = 30000)]
    public async Task A_replayed_hello_gets_the_challenge_instead_and_cannot_answer_it()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        var run = NewRun();
        var ticket = await FirstConnectionTicketAsync(server, run, "writer", AuthServer.WriterSecret, token);
        var hello = EarlyHello(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), run, 2, "writer", WriterSecret, ticket);
        await using (var original = await server.ConnectAsync(token))
        {
            Assert.NotNull((await original.HelloAsync(hello, token)).GetBytesOrNull(FieldTag.ServerProof));
        }

        // The same bytes again, as an eavesdropper would send them: no proof back, a fresh challenge.
        await using var replay = await server.ConnectAsync(token);
        var welcome = await replay.HelloAsync(hello, token);

        Assert.Null(welcome.GetBytesOrNull(FieldTag.ServerProof));
        Assert.Equal(ProtocolLimits.AuthBytes, welcome.GetBytes(FieldTag.ServerNonce).Length);
        FrameAssert.IsError(await replay.StartPutAsync(1, "replayed.txt", 3, token), ErrorCode.AuthenticationFailed, 1);
        Assert.False(File.Exists(server.PathOf("replayed.txt")));
        await server.Log.WaitForEventAsync(ServerEvents.TicketRefused, 1, TimeSpan.FromSeconds(5), token);
        Assert.Contains("replayed", Assert.Single(server.Log.WithEvent(ServerEvents.TicketRefused)).Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task The_connection_number_that_got_the_ticket_cannot_use_it()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        var run = NewRun();
        var ticket = await FirstConnectionTicketAsync(server, run, "writer", AuthServer.WriterSecret, token);

        await using var again = await server.ConnectAsync(token);
        var welcome = await again.HelloAsync(EarlyHello(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), run, 1, "writer", WriterSecret, ticket), token);

        Assert.Null(welcome.GetBytesOrNull(FieldTag.ServerProof));
        Assert.NotNull(welcome.GetBytesOrNull(FieldTag.ServerNonce));
    }

    [Fact(Timeout = 30000)]
    public async Task A_wrong_proof_over_a_live_ticket_is_a_failed_authentication_and_the_connection_closes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        var run = NewRun();
        var ticket = await FirstConnectionTicketAsync(server, run, "writer", AuthServer.WriterSecret, token);

        await using var guesser = await server.ConnectAsync(token);
        await guesser.SendMagicAsync(token);
        await guesser.SendAsync(EarlyHello(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), run, 2, "writer", "a-guess"u8.ToArray(), ticket), token);
        await guesser.ReadMagicAsync(token);

        FrameAssert.IsError(await guesser.ReadAsync(token), ErrorCode.AuthenticationFailed, 0);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        Assert.Empty(await guesser.ReadUntilClosedAsync(deadline.Token));
        await server.Log.WaitForEventAsync(ServerEvents.AuthenticationFailed, 1, TimeSpan.FromSeconds(5), token);
    }

    [Fact(Timeout = 30000)]
    public async Task Another_token_cannot_use_the_ticket_of_a_run_it_did_not_authenticate()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        var run = NewRun();
        var ticket = await FirstConnectionTicketAsync(server, run, "writer", AuthServer.WriterSecret, token);

        // The reader knows its own secret and saw the ticket on the wire; the ticket is the writer's run's.
        await using var other = await server.ConnectAsync(token);
        var welcome = await other.HelloAsync(EarlyHello(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), run, 2, "reader", Encoding.UTF8.GetBytes(AuthServer.ReaderSecret), ticket), token);

        Assert.Null(welcome.GetBytesOrNull(FieldTag.ServerProof));
        Assert.NotNull(welcome.GetBytesOrNull(FieldTag.ServerNonce));
    }

    [Fact(Timeout = 30000)]
    public async Task Another_run_cannot_use_the_ticket()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        var ticket = await FirstConnectionTicketAsync(server, NewRun(), "writer", AuthServer.WriterSecret, token);

        await using var other = await server.ConnectAsync(token);
        var welcome = await other.HelloAsync(EarlyHello(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), NewRun(), 2, "writer", WriterSecret, ticket), token);

        Assert.Null(welcome.GetBytesOrNull(FieldTag.ServerProof));
        Assert.NotNull(welcome.GetBytesOrNull(FieldTag.ServerNonce));
    }

    [Fact(Timeout = 30000)]
    public async Task A_ticket_unused_for_its_lifetime_expires_and_the_challenge_issues_a_new_one()
    {
        var token = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = AuthServer.Start(new AuthThrottleOptions { TimeProvider = time, FailureDelay = TimeSpan.Zero, MaxFailureDelay = TimeSpan.Zero });
        var run = NewRun();
        var ticket = await FirstConnectionTicketAsync(server, run, "writer", AuthServer.WriterSecret, token);

        // Used just before its end: the use extends it.
        time.Advance(RunTickets.Lifetime - TimeSpan.FromSeconds(1));
        await using (var used = await server.ConnectAsync(token))
        {
            Assert.NotNull((await used.HelloAsync(EarlyHello(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), run, 2, "writer", WriterSecret, ticket), token)).GetBytesOrNull(FieldTag.ServerProof));
        }

        time.Advance(RunTickets.Lifetime);
        await using var late = await server.ConnectAsync(token);
        var clientNonce = SecureRandom.GetBytes(ProtocolLimits.AuthBytes);
        var welcome = await late.HelloAsync(EarlyHello(clientNonce, run, 3, "writer", WriterSecret, ticket), token);
        Assert.Null(welcome.GetBytesOrNull(FieldTag.ServerProof));
        var serverNonce = welcome.GetBytes(FieldTag.ServerNonce);
        await late.SendAsync(Messages.Authenticate("writer", AuthProof.ForClient(WriterSecret, clientNonce, serverNonce, "writer")), token);
        var ok = await late.ReadAsync(token);
        FrameAssert.Is(ok, MessageType.Ok, 0);
        Assert.NotNull(ok.GetUInt64OrNull(FieldTag.TicketLifetime));
        Assert.Contains("expired", Assert.Single(server.Log.WithEvent(ServerEvents.TicketRefused)).Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task A_client_without_the_capability_gets_no_ticket_and_a_proof_in_its_hello_is_ignored()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        var run = NewRun();
        await using var first = await server.ConnectAsync(token);
        var (ok, _, serverNonce) = await first.AuthenticateAsync("writer", AuthServer.WriterSecret, new RunTicket(run, 1, []), token);
        FrameAssert.Is(ok, MessageType.Ok, 0);
        Assert.Null(ok.GetUInt64OrNull(FieldTag.TicketLifetime));

        await using var second = await server.ConnectAsync(token);
        var clientNonce = SecureRandom.GetBytes(ProtocolLimits.AuthBytes);
        var proof = AuthProof.ForRunClient(WriterSecret, clientNonce, serverNonce, run, 2, "writer");
        var welcome = await second.HelloAsync(Messages.Hello(ProtocolLimits.Version, Capabilities.Authentication, RawClient.Agent, clientNonce, new RunTicket(run, 2, []), "writer", proof), token);

        Assert.Null(welcome.GetBytesOrNull(FieldTag.ServerProof));
        Assert.NotNull(welcome.GetBytesOrNull(FieldTag.ServerNonce));
    }

    [Fact]
    public void The_ticket_table_is_bounded_and_issues_no_more_when_full()
    {
        var tickets = new RunTickets(new FakeTimeProvider(DateTimeOffset.UtcNow));
        for (int i = 0; i < RunTickets.MaxTickets; i++)
        {
            Assert.True(tickets.Issue("writer", NewRun(), 1, new byte[32]));
        }

        Assert.False(tickets.Issue("writer", NewRun(), 1, new byte[32]));
        Assert.Equal(RunTickets.MaxTickets, tickets.Count);
    }

    private static byte[] NewRun() => SecureRandom.GetBytes(ProtocolLimits.RunIdBytes);

    private static Frame EarlyHello(byte[] clientNonce, byte[] run, uint number, string name, byte[] secret, byte[] ticket) =>
        Messages.Hello(ProtocolLimits.Version, Offered, RawClient.Agent, clientNonce, new RunTicket(run, number, []), name,
            AuthProof.ForRunClient(secret, clientNonce, ticket, run, number, name));

    /// <summary>Connection 1 of <paramref name="run"/> authenticates by the challenge; returns the ticket its Ok issued.</summary>
    private static async Task<byte[]> FirstConnectionTicketAsync(TestServer server, byte[] run, string name, string secret, CancellationToken token)
    {
        await using var first = await server.ConnectAsync(token);
        var clientNonce = SecureRandom.GetBytes(ProtocolLimits.AuthBytes);
        var welcome = await first.HelloAsync(Messages.Hello(ProtocolLimits.Version, Offered, RawClient.Agent, clientNonce, new RunTicket(run, 1, [])), token);
        var serverNonce = welcome.GetBytes(FieldTag.ServerNonce);
        await first.SendAsync(Messages.Authenticate(name, AuthProof.ForClient(Encoding.UTF8.GetBytes(secret), clientNonce, serverNonce, name)), token);
        var ok = await first.ReadAsync(token);
        FrameAssert.Is(ok, MessageType.Ok, 0);
        Assert.Equal((ulong)RunTickets.Lifetime.TotalSeconds, ok.GetUInt64OrNull(FieldTag.TicketLifetime));
        return serverNonce;
    }
}
