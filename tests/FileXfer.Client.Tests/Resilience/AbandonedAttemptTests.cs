using FileXfer.Client.Resilience;
using FileXfer.Client.Tests.Faults;
using FileXfer.Protocol;
using FileXfer.Protocol.Net;

namespace FileXfer.Client.Tests.Resilience;

/// <summary>
/// The fence against abandoned attempts, end to end: a put the client gave up on (and retried) whose bytes the
/// network delivers late, after the retry and after another client's acknowledged put of the same path, is not
/// stored over them.
/// </summary>
public sealed class AbandonedAttemptTests
{
    [Fact(Timeout = 60000)]
    public async Task A_put_given_up_and_retried_whose_bytes_arrive_after_a_later_acknowledged_put_is_not_stored()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var network = new HoldingProxy(server.EndPoint);
        using var local = new TempDirectory();
        var mine = local.Combine("a.txt");
        var theirs = local.Combine("b.txt");
        await File.WriteAllTextAsync(mine, new string('A', 700), token);
        await File.WriteAllTextAsync(theirs, new string('B', 700), token);
        var options = new FileXferClientOptions();

        // The first attempt: its put and body leave the client, and the network holds them.
        var first = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", network.EndPoint.Port), options, token);
        network.Hold();
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(token);
        var attempt = first.UploadFileAsync(mine, "x", progress: null, giveUp.Token);
        await network.HeldAtLeastAsync(700);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => attempt);
        await first.DisposeAsync();
        await network.ClientEnded;
        Assert.Equal([1u], options.Run.Undeclared());

        // The retry, on a new connection of the same run, declares the first one abandoned and stores x.
        await using (var retry = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), options, token))
        {
            Assert.Empty(options.Run.Undeclared());
            await retry.UploadFileAsync(mine, "x", progress: null, token);
        }

        // Another client stores x after the command that put it was done.
        await using (var other = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), new FileXferClientOptions(), token))
        {
            await other.UploadFileAsync(theirs, "x", progress: null, token);
        }

        // Now the network delivers the first attempt's put, whole.
        network.Release();
        await network.ServerEnded;

        Assert.Equal(new string('B', 700), await File.ReadAllTextAsync(server.PathOf("x"), token));
        Assert.Empty(server.TempFiles());
        // Closed at its first request, as the server's log says (event 20).
        Assert.Single(server.Log.WithEvent(20));
    }

    [Fact(Timeout = 60000)]
    public async Task A_command_that_gives_up_declares_its_abandoned_connection_to_the_server_before_it_exits()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(300_000)));
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, 1024 * 1024, seed: 7, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "0", "put", source, "big.bin"], token);

        Assert.NotEqual(0, put.ExitCode);
        Assert.Equal(2, proxy.Connections);
        var declared = Assert.Single(server.Log.WithEvent(21));
        Assert.Contains("(1)", declared.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", put.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task A_command_that_cannot_declare_its_abandoned_connection_says_so()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Up(DirectionFaults.Cut(300_000)));
        proxy.Plan = FaultPlan.Up(DirectionFaults.Cut(0));
        using var local = new TempDirectory();
        var source = local.Combine("big.bin");
        await TestFiles.WriteRandomAsync(source, 1024 * 1024, seed: 8, token);

        var put = await CliRunner.RunAsync(proxy.Address, ["--retries", "0", "put", source, "big.bin"], token);

        Assert.NotEqual(0, put.ExitCode);
        Assert.Contains("warning: could not tell the server that 1 abandoned connection(s) must not be carried out", put.Stderr, StringComparison.Ordinal);
        Assert.Empty(server.Log.WithEvent(21));
    }

    [Fact]
    public void A_run_numbers_its_connections_and_declares_each_abandoned_one_until_a_server_accepted_it()
    {
        var run = new ClientRun();
        var first = run.NextTicket();
        var second = run.NextTicket();
        Assert.Equal((1u, 2u), (first.Number, second.Number));
        Assert.Equal(16, run.Id.Length);
        Assert.Same(run.Id, second.RunId);

        run.Abandon(1);
        run.Abandon(1);
        run.Abandon(2);
        var third = run.NextTicket();
        Assert.Equal([1u, 2u], third.Abandoned);

        // Accepted by a server: declared there, and no longer sent.
        run.Declared(third);
        Assert.Empty(run.NextTicket().Abandoned);
    }

    [Fact]
    public void A_hello_declares_at_most_the_protocol_limit_the_rest_going_with_the_next()
    {
        var run = new ClientRun();
        for (uint i = 1; i <= ProtocolLimits.MaxAbandonedConnections + 10; i++)
        {
            run.NextTicket();
            run.Abandon(i);
        }

        var ticket = run.NextTicket();
        Assert.Equal(ProtocolLimits.MaxAbandonedConnections, ticket.Abandoned.Count);
        Assert.Equal(1u, ticket.Abandoned[0]);
        run.Declared(ticket);
        Assert.Equal(10, run.NextTicket().Abandoned.Count);
    }
}
