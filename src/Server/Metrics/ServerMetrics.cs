using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FileXfer.Server.Metrics;

/// <summary>
/// The server's measurements, on the <see cref="Meter"/> named <c>FileXfer.Server</c> (what <c>dotnet-counters
/// monitor -n filexfer-server --counters FileXfer.Server</c> and the <c>--metrics</c> endpoint read). Every call is
/// cheap and lock-free when nothing listens, so the request path calls it unconditionally.
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "FileXfer.Server";

    private readonly UpDownCounter<long> _connectionsOpen;
    private readonly Counter<long> _connectionsRefused;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _bytesSent;
    private readonly Histogram<double> _transferDuration;
    private readonly Counter<long> _hashMismatches;
    private readonly Counter<long> _authenticationFailures;
    private readonly Histogram<long> _commitGroupSize;
    private readonly Histogram<double> _commitDuration;

    /// <param name="stagingBytes">Reads the bytes held in the staging area (partial and temporary uploads), or null.</param>
    public ServerMetrics(Func<long>? stagingBytes = null)
    {
        var version = typeof(ServerMetrics).Assembly.GetName().Version?.ToString(3);
        Meter = new Meter(MeterName, version);
        _connectionsOpen = Meter.CreateUpDownCounter<long>("filexfer.server.connections.open", "{connection}", "Connections being served.");
        _connectionsRefused = Meter.CreateCounter<long>("filexfer.server.connections.refused", "{connection}", "Connections refused (limits), by reason.");
        _requests = Meter.CreateCounter<long>("filexfer.server.requests", "{request}", "Requests answered, by operation and outcome (ok or the error code).");
        _bytesReceived = Meter.CreateCounter<long>("filexfer.server.bytes.received", "By", "File bytes received by puts.");
        _bytesSent = Meter.CreateCounter<long>("filexfer.server.bytes.sent", "By", "File bytes sent by gets.");
        _transferDuration = Meter.CreateHistogram<double>("filexfer.server.transfer.duration", "s", "Time of each put and get, from its request to its answer.");
        _hashMismatches = Meter.CreateCounter<long>("filexfer.server.hash.mismatches", "{upload}", "Uploads refused because the received bytes did not hash as the client said.");
        _authenticationFailures = Meter.CreateCounter<long>("filexfer.server.authentication.failures", "{attempt}", "Failed authentications, by reason.");
        _commitGroupSize = Meter.CreateHistogram<long>("filexfer.server.commit.group.size", "{file}", "Uploads made durable together by one group commit.");
        _commitDuration = Meter.CreateHistogram<double>("filexfer.server.commit.duration", "s", "Time of one group commit: flushing the files to disk (fsync or syncfs), naming them, syncing their directories.");
        if (stagingBytes is not null)
        {
            Meter.CreateObservableGauge("filexfer.server.staging.bytes", stagingBytes, "By", "Bytes held in the staging area: partial uploads kept for resuming and temporary files.");
        }
    }

    /// <summary>The meter every instrument belongs to.</summary>
    public Meter Meter { get; }

    public void ConnectionOpened() => _connectionsOpen.Add(1);

    public void ConnectionClosed() => _connectionsOpen.Add(-1);

    public void ConnectionRefused(string reason) => _connectionsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void AuthenticationFailed(string reason) => _authenticationFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>One request answered: <paramref name="outcome"/> is <c>ok</c> or the error code's name.</summary>
    public void RequestCompleted(string operation, string outcome, long bytes, TimeSpan duration)
    {
        var tags = new TagList { { "operation", operation }, { "outcome", outcome } };
        _requests.Add(1, tags);
        if (operation == nameof(MessageType.Put))
        {
            _bytesReceived.Add(bytes);
            _transferDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("operation", operation));
        }
        else if (operation == nameof(MessageType.Get))
        {
            _bytesSent.Add(bytes);
            _transferDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("operation", operation));
        }

        if (outcome == nameof(ErrorCode.IntegrityMismatch))
        {
            _hashMismatches.Add(1);
        }
    }

    public void GroupCommitted(int files, TimeSpan duration)
    {
        _commitGroupSize.Record(files);
        _commitDuration.Record(duration.TotalSeconds);
    }

    public void Dispose() => Meter.Dispose();
}
