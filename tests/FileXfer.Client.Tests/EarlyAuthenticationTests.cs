using FileXfer.Client.Resilience;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Net;

namespace FileXfer.Client.Tests;

/// <summary>
/// Early authentication through the library, over real sockets: the connections of one run after the first prove the
/// token in their Hello (no Authenticate round trip); where the ticket cannot serve, the challenge follows unseen.
/// </summary>
public sealed class EarlyAuthenticationTests
{
    [Fact(Timeout = 60000)]
    public async Task The_later_connections_of_a_run_authenticate_in_their_hello_with_the_access_of_the_token()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        var endPoint = new HostPort("127.0.0.1", server.Port);
        var run = new ClientRun();
        var options = new FileXferClientOptions { Credential = new FileXferCredential("reader", AuthTestServer.ReaderSecret), Run = run };

        await using var first = await FileXferClient.ConnectAsync(endPoint, options, token);
        Assert.NotNull(run.AuthTicket);
        await using var second = await FileXferClient.ConnectAsync(endPoint, options, token);
        await using var third = await FileXferClient.ConnectAsync(endPoint, options, token);

        Assert.All<FileXferClient>([first, second, third], client => Assert.True(client.IsAuthenticated));
        Assert.All<FileXferClient>([first, second, third], client => Assert.Equal(AccessFlags.None, client.Access));
        Assert.Single(server.Log.WithEvent(ServerEvents.AuthenticationSucceeded));
        Assert.Equal(2, server.Log.WithEvent(ServerEvents.TicketAccepted).Count);
        Assert.Equal(EntryKind.Directory, (await third.StatAsync(string.Empty, token)).Kind);
    }

    [Fact(Timeout = 60000)]
    public async Task A_server_that_does_not_know_the_ticket_gets_the_challenge_and_issues_its_own()
    {
        var token = TestContext.Current.CancellationToken;
        await using var issuer = AuthTestServer.Start();
        // Another server with the same tokens (a restart, or another one behind the same name) knows no ticket.
        await using var other = AuthTestServer.Start();
        var run = new ClientRun();
        var options = new FileXferClientOptions { Credential = new FileXferCredential("writer", AuthTestServer.WriterSecret), Run = run };
        await using (await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", issuer.Port), options, token))
        {
        }

        var first = run.AuthTicket!.Value.Nonce;
        await using var client = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", other.Port), options, token);

        Assert.True(client.IsAuthenticated);
        Assert.Equal(AccessFlags.Write, client.Access);
        Assert.Single(other.Log.WithEvent(ServerEvents.TicketRefused));
        Assert.Single(other.Log.WithEvent(ServerEvents.AuthenticationSucceeded));
        Assert.NotEqual(first, run.AuthTicket!.Value.Nonce);
    }

    [Fact(Timeout = 60000)]
    public async Task A_ticket_of_another_token_is_not_offered()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        var endPoint = new HostPort("127.0.0.1", server.Port);
        var run = new ClientRun();
        await using var writer = await FileXferClient.ConnectAsync(endPoint, new FileXferClientOptions { Credential = new FileXferCredential("writer", AuthTestServer.WriterSecret), Run = run }, token);

        await using var reader = await FileXferClient.ConnectAsync(endPoint, new FileXferClientOptions { Credential = new FileXferCredential("reader", AuthTestServer.ReaderSecret), Run = run }, token);

        Assert.Equal(AccessFlags.None, reader.Access);
        Assert.Empty(server.Log.WithEvent(ServerEvents.TicketAccepted));
        Assert.Empty(server.Log.WithEvent(ServerEvents.TicketRefused));
        Assert.Equal(2, server.Log.WithEvent(ServerEvents.AuthenticationSucceeded).Count);
    }

    [Fact(Timeout = 120000)]
    public async Task A_tree_put_and_get_authenticate_their_transfer_connections_in_the_hello_and_everything_arrives_verified()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        using var local = new TempDirectory();
        var tokenFile = AuthTestServer.WriteTokenFile(local, "writer", AuthTestServer.WriterSecret);
        var source = local.Combine("source");
        await TestTrees.CreateMixedTreeAsync(source, 40, token);

        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "--token-file", tokenFile, "put", "-r", source, "t"], token));
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "--token-file", tokenFile, "get", "-r", "t", local.Combine("restored")], token));

        // Per command: the listing connection answers the challenge, its 4 transfer connections use the run's ticket.
        Assert.Equal(2, server.Log.WithEvent(ServerEvents.AuthenticationSucceeded).Count);
        Assert.Equal(2 * 4, server.Log.WithEvent(ServerEvents.TicketAccepted).Count);
        Assert.Empty(server.Log.WithEvent(ServerEvents.TicketRefused));
        var original = await TestTrees.DescribeAsync(source, token);
        TestTrees.AssertSame(original, await TestTrees.DescribeAsync(server.PathOf("t"), token), "the server's copy");
        TestTrees.AssertSame(original, await TestTrees.DescribeAsync(local.Combine("restored"), token), "the restored copy");
    }
}
