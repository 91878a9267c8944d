using FileXfer.Client.Resilience;
using FileXfer.Client.Sync;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;

namespace FileXfer.Client.Tests.Trees;

/// <summary>
/// The link's round trip as the run's first TCP handshake measured it (<see cref="ClientRun.LinkRoundTrip"/>): a tree on a
/// long link opens its long-link connections from it, before any of its connections has authenticated.
/// </summary>
public sealed class LinkMeasureTests
{
    [Fact(Timeout = 60000)]
    public async Task A_connection_tells_its_run_the_round_trip_of_its_TCP_handshake()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        var run = new ClientRun();
        Assert.Null(run.LinkRoundTrip);
        TimeSpan? told = null;
        using var listening = run.OnLinkMeasured(roundTrip => told = roundTrip);
        var whenMeasured = run.WhenLinkMeasured();

        await using var client = await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), new FileXferClientOptions { Run = run }, token);

        Assert.NotNull(run.LinkRoundTrip);
        Assert.True(run.LinkRoundTrip > TimeSpan.Zero);
        Assert.Equal(run.LinkRoundTrip, told);
        Assert.True(whenMeasured.IsCompleted);
        Assert.Equal(run.LinkRoundTrip, await whenMeasured);
        Assert.True(run.LinkRoundTrip < ParallelTransfer.LongRoundTrip, $"loopback's round trip read as {run.LinkRoundTrip}");
    }

    [Fact]
    public void Only_the_first_measure_counts_and_a_late_listener_is_told_at_once()
    {
        var run = new ClientRun();
        var heard = new List<TimeSpan>();
        using (run.OnLinkMeasured(heard.Add))
        {
            run.LinkMeasured(TimeSpan.Zero); // no sample: ignored
            run.LinkMeasured(TimeSpan.FromMilliseconds(80));
            run.LinkMeasured(TimeSpan.FromMilliseconds(5));
        }

        var late = new List<TimeSpan>();
        using var listening = run.OnLinkMeasured(late.Add);

        Assert.Equal([TimeSpan.FromMilliseconds(80)], heard);
        Assert.Equal([TimeSpan.FromMilliseconds(80)], late);
        Assert.Equal(TimeSpan.FromMilliseconds(80), run.LinkRoundTrip);
    }

    [Fact]
    public void A_listener_that_stopped_listening_is_not_told()
    {
        var run = new ClientRun();
        int told = 0;
        run.OnLinkMeasured(_ => told++).Dispose();

        run.LinkMeasured(TimeSpan.FromMilliseconds(80));

        Assert.Equal(0, told);
    }

    [Fact(Timeout = 60000)]
    public async Task On_a_long_link_every_connection_of_a_tree_opens_before_any_has_authenticated()
    {
        // Each connection first tells the run that its TCP handshake took 80 ms (as on a long link), then waits until
        // the tree asked for all of them: 1 listing connection and LongLinkParallel transfer ones. Had the tree waited for
        // the listing connection's handshake to learn the round trip, it would have asked for 1 + Parallel only and
        // this gate would never open.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = Directory.CreateDirectory(local.Combine("source")).FullName;
        for (int i = 0; i < 30; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(source, $"f{i:00}.txt"), $"file {i}", token);
        }

        const int longLinkParallel = 6;
        var run = new ClientRun();
        int asked = 0;
        var allAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<FileXferClient> ConnectAsync(CancellationToken ct)
        {
            run.LinkMeasured(TimeSpan.FromMilliseconds(80));
            if (Interlocked.Increment(ref asked) == 1 + longLinkParallel)
            {
                allAsked.TrySetResult();
            }

            await allAsked.Task.WaitAsync(ct);
            return await FileXferClient.ConnectAsync(new HostPort("127.0.0.1", server.Port), new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256, Run = run }, ct);
        }

        var options = new TreeTransferOptions { Parallel = 2, LongLinkParallel = longLinkParallel, Run = run };
        var transfer = new TreeTransfer(ConnectAsync, HashAlgorithms.Sha256, options);
        var summary = await transfer.PutTreeAsync(source, "t", _ => ValueTask.CompletedTask, progress: null, token);

        Assert.Equal((30, 0), (summary.Transferred, summary.Failed));
        Assert.Equal(1 + longLinkParallel, Volatile.Read(ref asked));
        for (int i = 0; i < 30; i++)
        {
            Assert.Equal($"file {i}", await File.ReadAllTextAsync(server.PathOf($"t/f{i:00}.txt"), token));
        }
    }
}
