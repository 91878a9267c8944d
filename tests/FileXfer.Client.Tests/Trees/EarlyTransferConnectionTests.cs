using FileXfer.Client.Sync;
using FileXfer.Protocol;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Client.Tests.Trees;

/// <summary>
/// The transfer connections a tree opens ahead of the walk (docs/performance/issue-17-wan-bed.md, "Latency-aware
/// trees"): one that gets nothing to send within <see cref="TreeTransferOptions.SpeculativeIdle"/> is closed, and opened
/// again when a file comes. An idle time of zero closes them at once, so the path is taken without waiting on any clock.
/// </summary>
public sealed class EarlyTransferConnectionTests
{
    private const int ConnectionOpenedEvent = 2;

    [Fact(Timeout = 60000)]
    public async Task Connections_opened_ahead_that_get_no_file_in_time_are_closed_and_files_still_go_on_new_ones()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = Directory.CreateDirectory(local.Combine("source")).FullName;
        await File.WriteAllTextAsync(Path.Combine(source, "a.txt"), "a", token);
        await File.WriteAllTextAsync(Path.Combine(source, "b.txt"), "b", token);
        Directory.CreateDirectory(Path.Combine(source, "sub"));
        await File.WriteAllTextAsync(Path.Combine(source, "sub", "c.txt"), "c", token);

        var first = await PutAsync(server, source, token);
        int afterFirst = Opened(server);
        var second = await PutAsync(server, source, token);
        int afterSecond = Opened(server);

        Assert.Equal((3, 0), (first.Transferred, first.Failed));
        Assert.Equal("c", await File.ReadAllTextAsync(server.PathOf("t/sub/c.txt"), token));
        // The listing connection, the two opened ahead and closed at once, and at least one opened for the files.
        Assert.InRange(afterFirst, 1 + 2 + 1, 1 + 2 + 2);
        // Nothing changed: the two opened ahead are closed and none is opened again. One opened ahead may not even reach
        // the server: once the walk has found nothing to send, a connection still connecting is given up
        // (ExtraConnections.ConnectUnlessDrainedAsync), and on a busy machine the walk can finish first.
        Assert.Equal((0, 3), (second.Transferred, second.Skipped));
        Assert.InRange(afterSecond - afterFirst, 1, 1 + 2);
    }

    [Fact(Timeout = 60000)]
    public async Task A_tree_asking_more_connections_than_the_server_admits_goes_over_those_it_admits()
    {
        // Three connections from one address: the listing one and two transfer ones; the others it asks for are refused
        // as busy and leave the files to the admitted ones instead of failing the run. Opened all at once, the first
        // attempt's connections may push the listing connection out where a full server evicts the oldest in its handshake at
        // once (servers before the eviction age; this one refuses newcomers as busy instead): the retry connects it first.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, serverOptions: new FileXfer.Server.Hosting.TcpServerOptions { MaxConnectionsPerAddress = 3 });
        using var local = new TempDirectory();
        var source = Directory.CreateDirectory(local.Combine("source")).FullName;
        for (int i = 0; i < 40; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(source, $"f{i:00}.txt"), $"file {i}", token);
        }

        var options = new TreeTransferOptions { Parallel = 8 };
        var transfer = new TreeTransfer(ct => FileXferClient.ConnectAsync(new FileXfer.Protocol.Net.HostPort("127.0.0.1", server.Port), new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256 }, ct), HashAlgorithms.Sha256, options);
        // Attempts as the command line's retries make them (a failed attempt's connections may still count for the
        // address for a moment after it, so a retry may be refused too).
        TreeSummary? summary = null;
        for (int attempt = 1; summary is null; attempt++)
        {
            try
            {
                summary = await transfer.PutTreeAsync(source, "t", _ => ValueTask.CompletedTask, progress: null, token);
            }
            catch (Exception ex) when (ex is FileXferException or ConnectionFailedException or ConnectionLostException && attempt < 20)
            {
                // The next attempt connects its listing connection first.
            }
        }

        Assert.Equal(40, summary.Transferred + summary.Skipped);
        Assert.Equal(0, summary.Failed);
        for (int i = 0; i < 40; i++)
        {
            Assert.Equal($"file {i}", await File.ReadAllTextAsync(server.PathOf($"t/f{i:00}.txt"), token));
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_transfer_connection_still_connecting_when_every_file_is_carried_does_not_hold_the_run()
    {
        // One of the four transfer connections never gets past its handshake (as one whose SYN was lost waits a second
        // for TCP's retransmission, or longer): the others carry every file, and the run ends without it.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var source = Directory.CreateDirectory(local.Combine("source")).FullName;
        for (int i = 0; i < 20; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(source, $"f{i:00}.txt"), $"file {i}", token);
        }

        int calls = 0;
        var given = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task<FileXferClient> ConnectAsync(CancellationToken ct)
        {
            if (Interlocked.Increment(ref calls) == 3)
            {
                // Never comes up: it ends only when the run gives it up.
                var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (ct.Register(() =>
                {
                    given.TrySetResult();
                    never.TrySetCanceled(ct);
                }))
                {
                    await never.Task;
                }
            }

            return await FileXferClient.ConnectAsync(new FileXfer.Protocol.Net.HostPort("127.0.0.1", server.Port), new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256 }, ct);
        }

        var transfer = new TreeTransfer(ConnectAsync, HashAlgorithms.Sha256, new TreeTransferOptions { Parallel = 4 });
        var summary = await transfer.PutTreeAsync(source, "t", _ => ValueTask.CompletedTask, progress: null, token);

        Assert.Equal((20, 0), (summary.Transferred, summary.Failed));
        Assert.True(given.Task.IsCompleted, "the connection still connecting was not given up");
        Assert.Equal("file 19", await File.ReadAllTextAsync(server.PathOf("t/f19.txt"), token));
    }

    private static Task<TreeSummary> PutAsync(TestServer server, string source, CancellationToken token)
    {
        var options = new TreeTransferOptions { Parallel = 2, SpeculativeIdle = TimeSpan.Zero };
        var transfer = new TreeTransfer(ct => FileXferClient.ConnectAsync(new FileXfer.Protocol.Net.HostPort("127.0.0.1", server.Port), new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256 }, ct), HashAlgorithms.Sha256, options);
        return transfer.PutTreeAsync(source, "t", _ => ValueTask.CompletedTask, progress: null, token);
    }

    private static int Opened(TestServer server) => server.Log.Entries.Count(e => e.EventId.Id == ConnectionOpenedEvent);
}
