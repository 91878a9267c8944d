using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using FileXfer.Client.Sync;
using FileXfer.Client.Tests.Faults;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;

namespace FileXfer.Client.Tests.Trees;

/// <summary>
/// <c>verify -r</c> spreads the server's hashes over connections of their own (<see cref="Verifier.Connect"/>, <c>-P</c>):
/// the server hashes one file at a time per connection, so these are its cores. Spreading is proved with a store that
/// answers no read until reads wait on every hash connection at once (<see cref="GatedStore"/>), never with a clock.
/// </summary>
public sealed partial class VerifyConnectionsTests
{
    [Fact(Timeout = 120000)]
    public async Task Hashes_run_on_every_parallel_connection_at_once_and_never_on_the_listing_connection()
    {
        // 600 files: a connection holds at most 256 unanswered hashes, so the third connection gets files only if the
        // first two cannot take them all, and the gate answers nothing until all three read at once.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var names = await IdenticalTreeAsync(local.Path, server, 600, token);
        await using var gated = new GatedServer(server, sessions: 3);

        var (events, summary) = await VerifyAsync(gated.EndPoint, local.Path, parallel: 3, token);

        Assert.True(gated.Store.Opened.IsCompleted);
        Assert.Equal((names.Count, 0, 0, 0, 0), (summary.Identical, summary.Differs, summary.MissingOnServer, summary.OnlyOnServer, summary.Failed));
        Assert.Equal(names.Count, events.Count);
        Assert.Equal(1 + 3, gated.Log.WithEvent(ServerEvents.ConnectionOpened).Count);
        var hashing = ConnectionsOf(gated.Log, "Hash");
        var listing = Assert.Single(ConnectionsOf(gated.Log, "List"));
        Assert.Equal(3, hashing.Count);
        Assert.DoesNotContain(listing, hashing);
    }

    [Fact(Timeout = 120000)]
    public async Task Events_come_in_walk_order_when_a_directory_is_wider_than_the_window_of_comparisons()
    {
        // Two connections: a window of 1,024 comparisons, and "a" holds 1,100 files, so its events are handed on while
        // its later files are still being compared; files before subdirectories, everything in ordinal name order.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["z.txt"] = "z",
            ["B.txt"] = "B",
            ["c/d/e.txt"] = "e",
            ["c/f.txt"] = "f",
            ["a/sub/x.txt"] = "x",
        };
        for (int i = 0; i < 1100; i++)
        {
            files[string.Create(CultureInfo.InvariantCulture, $"a/f{i:D4}.txt")] = string.Create(CultureInfo.InvariantCulture, $"file {i}");
        }

        await WriteBothAsync(local.Path, server, files, token);
        TestTrees.CorruptOneByte(server.PathOf("backup/a/f0500.txt"), 0);
        File.Delete(server.PathOf("backup/a/f0700.txt"));
        await File.WriteAllTextAsync(server.PathOf("backup/a/only-on-server.txt"), "extra", token);

        var (events, summary) = await VerifyAsync(new IPEndPoint(IPAddress.Loopback, server.Port), local.Path, parallel: 2, token);

        var expected = WalkOrder(local.Path, server.PathOf("backup"), string.Empty);
        Assert.Equal(expected, events.Select(e => e.RemotePath["backup/".Length..]));
        Assert.Equal(VerifyStatus.Differs, Assert.Single(events, e => e.RemotePath == "backup/a/f0500.txt").Status);
        Assert.Equal(VerifyStatus.MissingOnServer, Assert.Single(events, e => e.RemotePath == "backup/a/f0700.txt").Status);
        Assert.Equal(VerifyStatus.OnlyOnServer, Assert.Single(events, e => e.RemotePath == "backup/a/only-on-server.txt").Status);
        Assert.Equal((files.Count - 2, 1, 1, 1, 0), (summary.Identical, summary.Differs, summary.MissingOnServer, summary.OnlyOnServer, summary.Failed));
    }

    [Fact(Timeout = 120000)]
    public async Task A_hash_connection_cut_with_hashes_unanswered_gives_them_to_the_others_and_the_report_is_still_right()
    {
        // 900 files over three connections through a proxy: the gate lets no hash through until all three hold theirs
        // (256 each), then the first one is cut a few answers in, with the rest of its 256 unanswered. A stored file
        // corrupted at rest must still be reported as differing, and every other one as identical.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var names = await IdenticalTreeAsync(local.Path, server, 900, token);
        TestTrees.CorruptOneByte(server.PathOf("backup/" + names[450]), 1);
        await using var gated = new GatedServer(server, sessions: 3);
        await using var proxy = new FaultProxy(gated.EndPoint);
        long handshake = await HandshakeBytesAsync(proxy, token);
        proxy.PlanNext(FaultPlan.Down(DirectionFaults.Cut(handshake + 600)));
        var viaProxy = new HostPort("127.0.0.1", proxy.EndPoint.Port);

        var events = new List<VerifyEvent>();
        await using var listingClient = await ConnectAsync(new HostPort("127.0.0.1", gated.EndPoint.Port), token);
        var verifier = new Verifier(listingClient, HashAlgorithms.Sha256) { Connect = ct => ConnectAsync(viaProxy, ct), Parallel = 3 };
        var summary = await verifier.VerifyTreeAsync(local.Path, "backup", item =>
        {
            events.Add(item);
            return ValueTask.CompletedTask;
        }, token);

        Assert.True(proxy.AcceptedConnections[1].Downstream.WasCut, "the first hash connection was not cut");
        Assert.Equal((names.Count - 1, 1, 0, 0, 0), (summary.Identical, summary.Differs, summary.MissingOnServer, summary.OnlyOnServer, summary.Failed));
        var differs = Assert.Single(events, e => e.Status != VerifyStatus.Identical);
        Assert.Equal("backup/" + names[450], differs.RemotePath);
        Assert.NotEqual(differs.LocalHashHex, differs.RemoteHashHex);
        Assert.All(events.Where(e => e.Status == VerifyStatus.Identical), e => Assert.Equal(e.LocalHashHex, e.RemoteHashHex));
        Assert.All(events.Where(e => e.Status == VerifyStatus.Identical), e => Assert.NotNull(e.RemoteHashHex));
    }

    [Fact(Timeout = 120000)]
    public async Task The_listing_connection_cut_mid_walk_fails_the_attempt_and_the_retry_reports_every_file_right()
    {
        // The command's first connection lists; cut a few KiB in (inside the listing of "one"), the attempt fails and
        // is retried as a whole over fresh connections. A stored file corrupted at rest is still the one that differs.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var names = await IdenticalTreeAsync(local.Path, server, 300, token);
        TestTrees.CorruptOneByte(server.PathOf("backup/" + names[200]), 2);
        await using var proxy = new FaultProxy(server);
        proxy.PlanNext(FaultPlan.Down(DirectionFaults.Cut(4000)));

        var verify = await CliRunner.RunAsync(proxy.Address, ["--retries", "3", "verify", "-r", local.Path, "backup"], token);

        Assert.True(proxy.AcceptedConnections[0].Downstream.WasCut, "the listing connection was not cut");
        Assert.True(verify.ExitCode == 4, verify.ToString());
        Assert.Contains("retry 1 of 3", verify.Stderr, StringComparison.Ordinal);
        Assert.Equal("differs: backup/" + names[200], Assert.Single(verify.StdoutLines, l => l.StartsWith("differs", StringComparison.Ordinal)));
        Assert.Equal("verify: 299 identical, 1 differ, 0 missing on server, 0 only on server, 0 failed", verify.StdoutLines[^1]);
    }

    [Fact(Timeout = 120000)]
    public async Task Hash_connections_a_busy_server_refuses_leave_the_hashes_to_the_one_it_admits()
    {
        // Two connections from this address: the listing one and one of the four hash connections asked for.
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { MaxConnectionsPerAddress = 2, ShutdownTimeout = TimeSpan.FromSeconds(5) });
        using var local = new TempDirectory();
        var names = await IdenticalTreeAsync(local.Path, server, 300, token);
        TestTrees.CorruptOneByte(server.PathOf("backup/" + names[7]), 0);

        var (_, summary) = await VerifyAsync(new IPEndPoint(IPAddress.Loopback, server.Port), local.Path, parallel: 4, token);

        Assert.Equal((names.Count - 1, 1, 0), (summary.Identical, summary.Differs, summary.Failed));
        var listing = Assert.Single(ConnectionsOf(server.Log, "List"));
        Assert.DoesNotContain(listing, ConnectionsOf(server.Log, "Hash"));
    }

    [Fact(Timeout = 120000)]
    public async Task When_the_server_admits_no_hash_connection_the_listing_connection_hashes()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer(root: null, serverOptions: new TcpServerOptions { MaxConnectionsPerAddress = 1, ShutdownTimeout = TimeSpan.FromSeconds(5) });
        using var local = new TempDirectory();
        var names = await IdenticalTreeAsync(local.Path, server, 300, token);
        TestTrees.CorruptOneByte(server.PathOf("backup/" + names[299]), 0);

        var (_, summary) = await VerifyAsync(new IPEndPoint(IPAddress.Loopback, server.Port), local.Path, parallel: 4, token);

        Assert.Equal((names.Count - 1, 1, 0), (summary.Identical, summary.Differs, summary.Failed));
        Assert.Equal(ConnectionsOf(server.Log, "List"), ConnectionsOf(server.Log, "Hash"));
    }

    [Fact(Timeout = 120000)]
    public async Task A_stored_file_removed_after_its_listing_is_missing_on_server()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var names = await IdenticalTreeAsync(local.Path, server, 20, token);
        await using var gated = new GatedServer(server, sessions: 1);
        gated.Store.BeforeFirstRead = () => File.Delete(server.PathOf("backup/" + names[10]));

        var (events, summary) = await VerifyAsync(gated.EndPoint, local.Path, parallel: 2, token);

        Assert.Equal((names.Count - 1, 1, 0), (summary.Identical, summary.MissingOnServer, summary.Failed));
        Assert.Equal(VerifyStatus.MissingOnServer, Assert.Single(events, e => e.RemotePath == "backup/" + names[10]).Status);
    }

    [Fact(Timeout = 120000)]
    public async Task Verify_takes_parallel_with_r_only_and_hashes_beside_the_listing_connection()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        using var local = new TempDirectory();
        var names = await IdenticalTreeAsync(local.Path, server, 50, token);

        var withoutR = await CliRunner.RunAsync(server, ["verify", "-P", "2", TestTrees.Combine(local.Path, names[0]), "backup/" + names[0]], token);
        var verify = await CliRunner.RunAsync(server, ["verify", "-r", "-P", "2", "--json", local.Path, "backup"], token);

        Assert.Equal(2, withoutR.ExitCode);
        Assert.Contains("--parallel needs -r", withoutR.Stderr, StringComparison.Ordinal);
        CliAssert.Success(verify);
        Assert.Equal(names.Count, JsonOutput.Summary(verify).GetProperty("identical").GetInt32());
        var listing = Assert.Single(ConnectionsOf(server.Log, "List"));
        Assert.DoesNotContain(listing, ConnectionsOf(server.Log, "Hash"));
    }

    /// <summary><paramref name="count"/> files in two directories, the same here and below <c>backup</c> on the server; their relative paths in walk order.</summary>
    private static async Task<List<string>> IdenticalTreeAsync(string localRoot, TestServer server, int count, CancellationToken cancellationToken)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            files[string.Create(CultureInfo.InvariantCulture, $"{(i < count / 2 ? "one" : "two")}/f{i:D4}.txt")] = string.Create(CultureInfo.InvariantCulture, $"content of file {i}\n");
        }

        await WriteBothAsync(localRoot, server, files, cancellationToken);
        return [.. files.Keys.Order(StringComparer.Ordinal)];
    }

    private static async Task WriteBothAsync(string localRoot, TestServer server, Dictionary<string, string> files, CancellationToken cancellationToken)
    {
        await TestTrees.CreateAsync(localRoot, files, cancellationToken);
        await TestTrees.CreateAsync(server.PathOf("backup"), files, cancellationToken);
    }

    private static async Task<(List<VerifyEvent> Events, VerifySummary Summary)> VerifyAsync(IPEndPoint server, string localRoot, int parallel, CancellationToken cancellationToken)
    {
        var address = new HostPort("127.0.0.1", server.Port);
        var events = new List<VerifyEvent>();
        await using var client = await ConnectAsync(address, cancellationToken);
        var verifier = new Verifier(client, HashAlgorithms.Sha256) { Connect = ct => ConnectAsync(address, ct), Parallel = parallel };
        var summary = await verifier.VerifyTreeAsync(localRoot, "backup", item =>
        {
            events.Add(item);
            return ValueTask.CompletedTask;
        }, cancellationToken);
        return (events, summary);
    }

    private static Task<FileXferClient> ConnectAsync(HostPort address, CancellationToken cancellationToken) =>
        FileXferClient.ConnectAsync(address, new FileXferClientOptions { HashAlgorithm = HashAlgorithms.Sha256 }, cancellationToken);

    /// <summary>How many bytes the server sends through <paramref name="proxy"/> for a handshake alone (its first connection).</summary>
    private static async Task<long> HandshakeBytesAsync(FaultProxy proxy, CancellationToken cancellationToken)
    {
        await using (var probe = await ConnectAsync(new HostPort("127.0.0.1", proxy.EndPoint.Port), cancellationToken))
        {
            await probe.WhenAuthenticatedAsync(cancellationToken);
        }

        var first = await proxy.WaitForConnectionAsync(0, cancellationToken);
        await first.Closed.WaitAsync(cancellationToken);
        return first.Downstream.Bytes;
    }

    /// <summary>The connections (ids) the server served <paramref name="operation"/> requests on, by its log.</summary>
    private static SortedSet<long> ConnectionsOf(RecordingLogger log, string operation) =>
        [.. log.WithEvent(ServerEvents.RequestCompleted)
            .Select(e => RequestLine().Match(e.Message))
            .Where(m => m.Success && m.Groups["operation"].Value == operation)
            .Select(m => long.Parse(m.Groups["connection"].Value, CultureInfo.InvariantCulture))];

    /// <summary>The relative paths of both trees' files in walk order: a directory's files by name, then its directories.</summary>
    private static List<string> WalkOrder(string localRoot, string remoteRoot, string relative)
    {
        static IEnumerable<string> Names(string root, string relative, bool directories)
        {
            var path = TestTrees.Combine(root, relative);
            return !Directory.Exists(path) ? []
                : (directories ? Directory.GetDirectories(path) : Directory.GetFiles(path)).Select(p => Path.GetFileName(p)!);
        }

        string Join(string name) => relative.Length == 0 ? name : relative + "/" + name;
        var order = Names(localRoot, relative, directories: false).Union(Names(remoteRoot, relative, directories: false)).Order(StringComparer.Ordinal).Select(Join).ToList();
        foreach (var directory in Names(localRoot, relative, directories: true).Union(Names(remoteRoot, relative, directories: true)).Order(StringComparer.Ordinal))
        {
            order.AddRange(WalkOrder(localRoot, remoteRoot, Join(directory)));
        }

        return order;
    }

    [GeneratedRegex(@"^Request (?<connection>\d+)/\d+ (?<operation>\w+) ")]
    private static partial Regex RequestLine();

    /// <summary>The real server over a test server's files through a <see cref="GatedStore"/>.</summary>
    private sealed class GatedServer : IAsyncDisposable
    {
        private readonly TcpServer _server;
        private readonly Task _serving;

        public GatedServer(TestServer server, int sessions)
        {
            Store = new GatedStore(server.Store, sessions);
            _server = new TcpServer(
                new IPEndPoint(IPAddress.Loopback, 0),
                context => new FileXferRequestHandler(context, Store, new FileXferHandlerOptions(), Log),
                Log,
                new TcpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(5) });
            _server.Start();
            EndPoint = _server.LocalEndPoint;
            _serving = _server.ServeForeverAsync(CancellationToken.None);
        }

        public GatedStore Store { get; }

        public RecordingLogger Log { get; } = new();

        public IPEndPoint EndPoint { get; }

        public async ValueTask DisposeAsync()
        {
            await _server.StopAsync();
            await _serving;
            await _server.DisposeAsync();
        }
    }
}
