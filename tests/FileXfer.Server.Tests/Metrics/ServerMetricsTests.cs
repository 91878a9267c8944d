using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using FileXfer.Protocol.Framing;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;
using FileXfer.Server.Metrics;
using FileXfer.Server.Security;

namespace FileXfer.Server.Tests.Metrics;

/// <summary>
/// The meter FileXfer.Server after a known sequence of requests, read through a <see cref="MeterListener"/> and
/// through the <c>--metrics</c> HTTP endpoint of the real server process, with its health answer.
/// </summary>
public sealed partial class ServerMetricsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact(Timeout = 60000)]
    public async Task A_known_sequence_of_requests_is_counted_on_the_meter()
    {
        var token = TestContext.Current.CancellationToken;
        using var metrics = new ServerMetrics(() => 42);
        using var listener = new Totals(metrics.Meter);
        var handlerOptions = new FileXferHandlerOptions
        {
            Authenticator = new TokenAuthenticator(AuthServer.Tokens, new AuthThrottle(new AuthThrottleOptions { FailureDelay = TimeSpan.Zero, MaxFailureDelay = TimeSpan.Zero })),
            Metrics = metrics,
        };
        await using (var server = new TestServer(root: null, handlerOptions: handlerOptions, serverOptions: new TcpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(5), Metrics = metrics }))
        {
            await using (var intruder = await server.ConnectAsync(token))
            {
                var (refused, _, _) = await intruder.AuthenticateAsync("writer", "not-the-secret-at-all", token);
                FrameAssert.Is(refused, MessageType.Error, 0);
            }

            await using (var client = await server.ConnectAsAsync("writer", AuthServer.WriterSecret, token))
            {
                FrameAssert.Is(await client.PutAsync(1, "a.txt", "hello"u8.ToArray(), token), MessageType.Ok, 1);
                FrameAssert.Is(await client.PutAsync(2, "b.txt", "goodbye"u8.ToArray(), token), MessageType.Ok, 2);
                FrameAssert.Is(await client.PutClaimingAsync(3, "c.txt", "bad"u8.ToArray(), new byte[32], token), MessageType.Error, 3);
                await client.SendAsync(Messages.PathRequest(MessageType.Stat, 4, "missing.txt"), token);
                FrameAssert.Is(await client.ReadAsync(token), MessageType.Error, 4);
            }

            await server.WaitForClosedConnectionsAsync(2, token);
        }

        Assert.Equal(2, listener.Sum("filexfer.server.requests", "operation=Put", "outcome=ok"));
        Assert.Equal(1, listener.Sum("filexfer.server.requests", "operation=Put", "outcome=IntegrityMismatch"));
        Assert.Equal(1, listener.Sum("filexfer.server.requests", "operation=Stat", "outcome=NotFound"));
        Assert.Equal(12, listener.Sum("filexfer.server.bytes.received"));
        Assert.Equal(0, listener.Sum("filexfer.server.bytes.sent"));
        Assert.Equal(1, listener.Sum("filexfer.server.hash.mismatches"));
        Assert.Equal(1, listener.Sum("filexfer.server.authentication.failures", "reason=wrong_token"));
        Assert.Equal(2, listener.Sum("filexfer.server.commit.group.size"));
        // Every put answered has its duration, the refused one too.
        Assert.Equal(3, listener.Count("filexfer.server.transfer.duration", "operation=Put"));
        Assert.Equal(2, listener.Count("filexfer.server.connections.open", "+"));
        Assert.Equal(0, listener.Sum("filexfer.server.connections.open"));
        listener.ReadGauges();
        Assert.Equal(42, listener.Last("filexfer.server.staging.bytes"));
    }

    [Fact]
    public void The_exporter_writes_prometheus_text_with_units_totals_and_buckets()
    {
        using var metrics = new ServerMetrics(() => 4096);
        using var exporter = new PrometheusExporter(metrics.Meter);
        metrics.RequestCompleted("Get", "ok", 1000, TimeSpan.FromMilliseconds(20));
        metrics.RequestCompleted("Get", "ok", 24, TimeSpan.FromSeconds(2));
        metrics.GroupCommitted(3, TimeSpan.FromMilliseconds(4));
        metrics.ConnectionRefused("too many connections");

        var lines = exporter.Render().Split('\n');

        Assert.Contains("# TYPE filexfer_server_requests_total counter", lines);
        Assert.Contains("filexfer_server_requests_total{operation=\"Get\",outcome=\"ok\"} 2", lines);
        Assert.Contains("filexfer_server_bytes_sent_total 1024", lines);
        Assert.Contains("# TYPE filexfer_server_transfer_duration_seconds histogram", lines);
        Assert.Contains("filexfer_server_transfer_duration_seconds_bucket{operation=\"Get\",le=\"0.05\"} 1", lines);
        Assert.Contains("filexfer_server_transfer_duration_seconds_bucket{operation=\"Get\",le=\"5\"} 2", lines);
        Assert.Contains("filexfer_server_transfer_duration_seconds_bucket{operation=\"Get\",le=\"+Inf\"} 2", lines);
        Assert.Contains("filexfer_server_transfer_duration_seconds_count{operation=\"Get\"} 2", lines);
        Assert.Contains("filexfer_server_commit_group_size_bucket{le=\"4\"} 1", lines);
        Assert.Contains("filexfer_server_commit_group_size_sum 3", lines);
        Assert.Contains("filexfer_server_connections_refused_total{reason=\"too many connections\"} 1", lines);
        Assert.Contains("# TYPE filexfer_server_staging_bytes gauge", lines);
        Assert.Contains("filexfer_server_staging_bytes 4096", lines);
    }

    [Fact(Timeout = 60000)]
    public async Task The_metrics_endpoint_of_the_server_process_counts_transfers_and_answers_health()
    {
        var token = TestContext.Current.CancellationToken;
        using var server = ServerProcess.Start("--root", _directory.CreateDirectory("root"), "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--shutdown-timeout", "30");
        var endPoint = await server.WaitUntilListeningAsync(token);
        var metricsLine = await server.WaitForLineAsync(l => l.Contains("Metrics on http://", StringComparison.Ordinal), TimeSpan.FromSeconds(20), token);
        var metricsAddress = MetricsAddress().Match(metricsLine).Groups["address"].Value;
        using var http = new HttpClient { BaseAddress = new Uri($"http://{metricsAddress}/") };

        Assert.Equal("ok\n", await http.GetStringAsync("healthz", token));
        await using var client = await RawClient.ConnectAsync(endPoint, token);
        await client.HandshakeAsync(token);
        FrameAssert.Is(await client.PutAsync(1, "a.txt", "hello"u8.ToArray(), token), MessageType.Ok, 1);
        FrameAssert.Is(await client.PutAsync(2, "b.txt", "world!!"u8.ToArray(), token), MessageType.Ok, 2);
        var scraped = (await http.GetStringAsync("metrics", token)).Split('\n');
        var notFound = await http.GetAsync("other", token);

        Assert.Contains("filexfer_server_requests_total{operation=\"Put\",outcome=\"ok\"} 2", scraped);
        Assert.Contains("filexfer_server_bytes_received_total 12", scraped);
        Assert.Contains("filexfer_server_connections_open 1", scraped);
        Assert.Contains("filexfer_server_transfer_duration_seconds_count{operation=\"Put\"} 2", scraped);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, notFound.StatusCode);

        // A put in flight holds the drain open: meanwhile the health answer says the server is stopping.
        FrameAssert.Is(await client.StartPutAsync(3, "slow.bin", 10, token), MessageType.Ready, 3);
        server.SendSigTerm();
        await server.WaitForLineAsync(l => l.Contains("Stopping: no new connections", StringComparison.Ordinal), TimeSpan.FromSeconds(20), token);
        var health = await http.GetAsync("healthz", token);
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal("stopping\n", await health.Content.ReadAsStringAsync(token));
        await client.SendRawAsync(new byte[10], token);
        await client.SendAsync(Messages.BodyEnd(3, FileXfer.Protocol.Hashing.HashAlgorithms.Sha256, System.Security.Cryptography.SHA256.HashData(new byte[10])), token);
        FrameAssert.Is(await client.ReadAsync(token), MessageType.Ok, 3);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20), token));
    }

    [GeneratedRegex(@"Metrics on http://(?<address>[0-9.]+:[0-9]+)/metrics")]
    private static partial Regex MetricsAddress();

    /// <summary>Every measurement of one meter, kept by instrument and tags.</summary>
    private sealed class Totals : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, string[] Tags, double Value)> _measurements = new();

        public Totals(Meter meter)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter == meter)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
            _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
            _listener.Start();
        }

        public void ReadGauges() => _listener.RecordObservableInstruments();

        /// <summary>The sum of the measurements that carry all <paramref name="tags"/> (<c>key=value</c>).</summary>
        public double Sum(string instrument, params string[] tags) => Matching(instrument, tags).Sum(m => m.Value);

        /// <summary>How many measurements carry the tags; "+" counts the positive ones.</summary>
        public int Count(string instrument, params string[] tags) =>
            tags is ["+"] ? Matching(instrument, []).Count(m => m.Value > 0) : Matching(instrument, tags).Count();

        public double Last(string instrument) => Matching(instrument, []).Last().Value;

        public void Dispose() => _listener.Dispose();

        private IEnumerable<(string Instrument, string[] Tags, double Value)> Matching(string instrument, string[] tags) =>
            _measurements.Where(m => m.Instrument == instrument && tags.All(m.Tags.Contains));

        private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var shown = new string[tags.Length];
            for (int i = 0; i < tags.Length; i++)
            {
                shown[i] = $"{tags[i].Key}={tags[i].Value}";
            }

            _measurements.Enqueue((instrument.Name, shown, value));
        }
    }
}
