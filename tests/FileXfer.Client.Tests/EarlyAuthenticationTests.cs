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
        // The ticket comes in the challenge's Ok, read with the first answer or here.
        await first.WhenAuthenticatedAsync(token);
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
        await using (var issued = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", issuer.Port), options, token))
        {
            await issued.WhenAuthenticatedAsync(token);
        }

        var first = run.AuthTicket!.Value.Nonce;
        await using var client = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", other.Port), options, token);
        await client.WhenAuthenticatedAsync(token);

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
        await writer.WhenAuthenticatedAsync(token);
        Assert.NotNull(run.AuthTicket);

        await using var reader = await FileXferClient.ConnectAsync(endPoint, new FileXferClientOptions { Credential = new FileXferCredential("reader", AuthTestServer.ReaderSecret), Run = run }, token);
        await reader.WhenAuthenticatedAsync(token);

        Assert.Equal(AccessFlags.None, reader.Access);
        Assert.Empty(server.Log.WithEvent(ServerEvents.TicketAccepted));
        Assert.Empty(server.Log.WithEvent(ServerEvents.TicketRefused));
        Assert.Equal(2, server.Log.WithEvent(ServerEvents.AuthenticationSucceeded).Count);
    }

    [Fact(Timeout = 120000)]
    public async Task A_tree_put_and_get_authenticate_each_connection_once_and_everything_arrives_verified()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        using var local = new TempDirectory();
        var tokenFile = AuthTestServer.WriteTokenFile(local, "writer", AuthTestServer.WriterSecret);
        var source = local.Combine("source");
        await TestTrees.CreateMixedTreeAsync(source, 40, token);

        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "--token-file", tokenFile, "put", "-r", source, "t"], token));
        CliAssert.Success(await CliRunner.RunAsync(server, ["--quiet", "--token-file", tokenFile, "get", "-r", "t", local.Combine("restored")], token));

        // Per command five connections, each authenticated once: the listing connection and the 4 transfer connections
        // opened beside it answer the challenge at the same time, unless one opens after a ticket was issued; a
        // connection opened later (a retry's, the more a long link gets) uses the run's ticket.
        int challenged = server.Log.WithEvent(ServerEvents.AuthenticationSucceeded).Count;
        int ticketed = server.Log.WithEvent(ServerEvents.TicketAccepted).Count;
        Assert.Equal(2 * 5, challenged + ticketed);
        Assert.InRange(challenged, 2, 2 * 5);
        Assert.Empty(server.Log.WithEvent(ServerEvents.TicketRefused));
        var original = await TestTrees.DescribeAsync(source, token);
        TestTrees.AssertSame(original, await TestTrees.DescribeAsync(server.PathOf("t"), token), "the server's copy");
        TestTrees.AssertSame(original, await TestTrees.DescribeAsync(local.Combine("restored"), token), "the restored copy");
    }

    [Fact(Timeout = 120000)]
    public async Task A_tree_retried_connects_its_listing_connection_first_and_every_connection_uses_the_run_ticket()
    {
        // One TreeTransfer runs its attempts (the command line's retries): the first opens its transfer connections beside
        // the listing connection, all answering the challenge; a later one connects the listing connection first, then
        // the transfer connections, all with the ticket the first attempt was issued.
        var token = TestContext.Current.CancellationToken;
        await using var server = AuthTestServer.Start();
        using var local = new TempDirectory();
        var source = local.Combine("source");
        await TestTrees.CreateMixedTreeAsync(source, 40, token);
        var options = new FileXferClientOptions { Credential = new FileXferCredential("writer", AuthTestServer.WriterSecret), Run = new ClientRun() };
        var transfer = new FileXfer.Client.Sync.TreeTransfer(ct => FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), options, ct), options.HashAlgorithm);

        var first = await transfer.PutTreeAsync(source, "t", _ => ValueTask.CompletedTask, progress: null, token);
        int before = server.Log.Entries.Count;
        var second = await transfer.PutTreeAsync(source, "t", _ => ValueTask.CompletedTask, progress: null, token);

        Assert.Equal((40, 0), (first.Transferred, first.Failed));
        Assert.Equal(0, second.Failed);
        var entries = server.Log.Entries.Skip(before).ToList();
        Assert.DoesNotContain(entries, e => e.EventId.Id == ServerEvents.AuthenticationSucceeded);
        var tickets = entries.Select((e, i) => (e, i)).Where(x => x.e.EventId.Id == ServerEvents.TicketAccepted).Select(x => x.i).ToList();
        var openings = entries.Select((e, i) => (e, i)).Where(x => x.e.EventId.Id == ServerEvents.ConnectionOpened).Select(x => x.i).ToList();
        Assert.Equal(5, tickets.Count);
        Assert.Equal(5, openings.Count);
        // The listing connection authenticated before the transfer connections were opened.
        Assert.All(openings.Skip(1), i => Assert.True(i > tickets[0], "a transfer connection opened before the listing connection authenticated"));
    }
}
