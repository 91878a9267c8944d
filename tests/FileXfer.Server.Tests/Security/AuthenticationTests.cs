using System.Text;
using FileXfer.Platform;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Security;
using FileXfer.Server.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Server.Tests.Security;

/// <summary>Token authentication over a real socket: the challenge-response, refusals, delays and lockout.</summary>
public sealed class AuthenticationTests
{
    [Fact(Timeout = 30000)]
    public async Task A_good_token_is_accepted_and_the_server_proves_it_knows_the_secret()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var client = await server.ConnectAsync(token);

        var (answer, clientNonce, serverNonce) = await client.AuthenticateAsync("writer", AuthServer.WriterSecret, token);

        FrameAssert.Is(answer, MessageType.Ok, 0);
        var expected = AuthProof.ForServer(Encoding.UTF8.GetBytes(AuthServer.WriterSecret), clientNonce, serverNonce, "writer");
        Assert.Equal(expected, answer.GetBytes(FieldTag.ServerProof));
        Assert.Equal((ulong)AccessFlags.Write, answer.GetUInt64OrNull(FieldTag.Flags));
        FrameAssert.Is(await client.PutAsync(1, "a.txt", "abc"u8.ToArray(), token), MessageType.Ok, 1);
        Assert.Equal("abc", await File.ReadAllTextAsync(server.PathOf("a.txt"), token));
        await server.Log.WaitForEventAsync(ServerEvents.AuthenticationSucceeded, 1, TimeSpan.FromSeconds(5), token);
        var success = Assert.Single(server.Log.WithEvent(ServerEvents.AuthenticationSucceeded));
        Assert.Equal(LogLevel.Information, success.Level);
        Assert.Contains("writer", success.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task A_server_with_tokens_announces_authentication_and_a_fresh_nonce_each_time()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var first = await server.ConnectAsync(token);
        await using var second = await server.ConnectAsync(token);

        var a = await first.HandshakeWithNonceAsync(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), token);
        var b = await second.HandshakeWithNonceAsync(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), token);

        Assert.True(((Capabilities)a.GetUInt64OrNull(FieldTag.Capabilities)!.Value).HasFlag(Capabilities.Authentication));
        Assert.Equal(32, a.GetBytes(FieldTag.ServerNonce).Length);
        Assert.NotEqual(a.GetBytes(FieldTag.ServerNonce), b.GetBytes(FieldTag.ServerNonce));
    }

    [Fact(Timeout = 30000)]
    public async Task A_server_without_tokens_neither_announces_authentication_nor_sends_a_nonce()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var client = await server.ConnectAsync(token);

        var welcome = await client.HandshakeWithNonceAsync(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), token);

        Assert.False(((Capabilities)welcome.GetUInt64OrNull(FieldTag.Capabilities)!.Value).HasFlag(Capabilities.Authentication));
        Assert.Null(welcome.GetBytesOrNull(FieldTag.ServerNonce));
    }

    [Fact(Timeout = 30000)]
    public async Task A_wrong_secret_is_refused_and_the_connection_closed()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var client = await server.ConnectAsync(token);

        var (answer, _, _) = await client.AuthenticateAsync("writer", AuthServer.ReaderSecret, token);

        FrameAssert.IsError(answer, ErrorCode.AuthenticationFailed, 0);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        Assert.Empty(await client.ReadUntilClosedAsync(deadline.Token));
    }

    [Fact(Timeout = 30000)]
    public async Task An_unknown_name_is_refused_like_a_wrong_secret_and_logged_escaped_at_warning()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var wrongSecret = await server.ConnectAsync(token);
        await using var unknown = await server.ConnectAsync(token);

        var (wrong, _, _) = await wrongSecret.AuthenticateAsync("writer", "not-the-secret-at-all", token);
        var (nobody, _, _) = await unknown.AuthenticateAsync("nobody\x1b[2J", AuthServer.WriterSecret, token);

        FrameAssert.IsError(nobody, ErrorCode.AuthenticationFailed, 0);
        Assert.Equal(wrong.GetStringOrNull(FieldTag.Message), nobody.GetStringOrNull(FieldTag.Message));
        await server.Log.WaitForEventAsync(ServerEvents.AuthenticationFailed, 2, TimeSpan.FromSeconds(5), token);
        var logged = server.Log.WithEvent(ServerEvents.AuthenticationFailed);
        Assert.All(logged, entry => Assert.Equal(LogLevel.Warning, entry.Level));
        Assert.All(logged, entry => Assert.Contains("127.0.0.1", entry.Message, StringComparison.Ordinal));
        Assert.DoesNotContain(logged, entry => entry.Message.Contains('\x1b', StringComparison.Ordinal));
        Assert.Contains(logged, entry => entry.Message.Contains("nobody", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30000)]
    public async Task A_request_before_authenticating_is_refused_the_connection_closed_and_nothing_done()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var client = await server.ConnectAsync(token);
        await client.HandshakeWithNonceAsync(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), token);

        var answer = await client.StartPutAsync(5, "sneaky.txt", 3, token);

        FrameAssert.IsError(answer, ErrorCode.AuthenticationFailed, 5);
        using var deadline = Deadline.After(TimeSpan.FromSeconds(10));
        Assert.Empty(await client.ReadUntilClosedAsync(deadline.Token));
        Assert.False(File.Exists(server.PathOf("sneaky.txt")));
    }

    [Fact(Timeout = 30000)]
    public async Task A_client_that_sends_no_nonce_cannot_authenticate_even_with_the_right_proof_shape()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var client = await server.ConnectAsync(token);
        var welcome = await client.HandshakeWithNonceAsync(clientNonce: null, token);
        var serverNonce = welcome.GetBytes(FieldTag.ServerNonce);

        // Without a client nonce, a proof would depend on the server's nonce alone.
        await client.SendAsync(Messages.Authenticate("writer", AuthProof.ForClient(Encoding.UTF8.GetBytes(AuthServer.WriterSecret), [], serverNonce, "writer")), token);

        FrameAssert.IsError(await client.ReadAsync(token), ErrorCode.AuthenticationFailed, 0);
    }

    [Fact(Timeout = 30000)]
    public async Task A_proof_from_another_connection_is_not_accepted()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthServer.Start();
        await using var first = await server.ConnectAsync(token);
        var clientNonce = SecureRandom.GetBytes(ProtocolLimits.AuthBytes);
        var firstWelcome = await first.HandshakeWithNonceAsync(clientNonce, token);
        var recorded = AuthProof.ForClient(Encoding.UTF8.GetBytes(AuthServer.WriterSecret), clientNonce, firstWelcome.GetBytes(FieldTag.ServerNonce), "writer");
        await using var replay = await server.ConnectAsync(token);
        await replay.HandshakeWithNonceAsync(clientNonce, token);

        await replay.SendAsync(Messages.Authenticate("writer", recorded), token);

        FrameAssert.IsError(await replay.ReadAsync(token), ErrorCode.AuthenticationFailed, 0);
    }

    [Fact(Timeout = 30000)]
    public async Task A_failed_attempt_is_answered_only_after_the_delay_which_grows_with_recent_failures()
    {
        var token = TestContext.Current.CancellationToken;
        var time = new TestClock();
        await using var server = AuthServer.Start(new AuthThrottleOptions { TimeProvider = time });

        await AssertAnsweredAfterAsync(server, time, TimeSpan.FromSeconds(1), failuresSoFar: 0, token);
        await AssertAnsweredAfterAsync(server, time, TimeSpan.FromSeconds(2), failuresSoFar: 1, token);
    }

    [Fact(Timeout = 30000)]
    public async Task After_too_many_failures_an_address_is_refused_at_once_even_with_a_good_token_until_the_lockout_ends()
    {
        var token = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = AuthServer.Start(new AuthThrottleOptions
        {
            TimeProvider = time,
            FailureDelay = TimeSpan.Zero,
            MaxFailureDelay = TimeSpan.Zero,
            MaxFailures = 3,
            Lockout = TimeSpan.FromMinutes(10),
        });
        for (int i = 0; i < 3; i++)
        {
            await using var guesser = await server.ConnectAsync(token);
            FrameAssert.IsError((await guesser.AuthenticateAsync("writer", $"guess-number-{i}-xxxxxxxx", token)).Answer, ErrorCode.AuthenticationFailed, 0);
        }

        await using (var locked = await server.ConnectAsync(token))
        {
            var (answer, _, _) = await locked.AuthenticateAsync("writer", AuthServer.WriterSecret, token);
            FrameAssert.IsError(answer, ErrorCode.AuthenticationFailed, 0);
            Assert.Contains("too many failed attempts", answer.GetString(FieldTag.Message), StringComparison.Ordinal);
        }

        time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        await using var later = await server.ConnectAsAsync("writer", AuthServer.WriterSecret, token);
    }

    private static async Task AssertAnsweredAfterAsync(TestServer server, TestClock time, TimeSpan delay, int failuresSoFar, CancellationToken token)
    {
        await using var client = await server.ConnectAsync(token);
        await client.HandshakeWithNonceAsync(SecureRandom.GetBytes(ProtocolLimits.AuthBytes), token);
        await client.SendAsync(Messages.Authenticate("writer", new byte[32]), token);
        // The failure is logged once its delay has started on the fake clock.
        await server.Log.WaitForEventAsync(ServerEvents.AuthenticationFailed, failuresSoFar + 1, TimeSpan.FromSeconds(5), token);
        var answer = client.ReadAsync(token);

        // The answer waits on the delay: still running just before its end (the clock fires timers as it advances), over at it.
        time.Advance(delay - TimeSpan.FromMilliseconds(1));
        Assert.True(time.IsPending(delay), $"no {delay.TotalSeconds} s delay running before the answer");

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(time.IsPending(delay));
        FrameAssert.IsError(await answer, ErrorCode.AuthenticationFailed, 0);
    }
}
