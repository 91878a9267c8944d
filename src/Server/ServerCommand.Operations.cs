using System.Net.Sockets;
using System.Threading.Channels;
using FileXfer.Protocol.Net;
using FileXfer.Server.Hosting;
using FileXfer.Server.Metrics;
using FileXfer.Server.Security;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server;

/// <summary>The parts of running the server that serve operators: range checks of the settings, the metrics endpoint, reloads on SIGHUP.</summary>
internal static partial class ServerCommand
{
    // A handshake is 2 to 4 round trips: under a second cuts off clients on ordinary long links, over ten minutes lets
    // each stalled connection hold its place for that long before the deadline closes it.
    private const double MinHandshakeTimeoutSeconds = 1;
    private const double MaxHandshakeTimeoutSeconds = 600;

    /// <summary>A day: a drain longer than that is a server that does not stop.</summary>
    private const double MaxShutdownTimeoutSeconds = 86_400;

    /// <summary>A week without progress; the timers take at most 49 days.</summary>
    private const double MaxIdleTimeoutSeconds = 604_800;

    /// <summary>Linux's largest TCP_KEEPIDLE and TCP_KEEPINTVL (<c>MAX_TCP_KEEPIDLE</c>); over it setsockopt fails.</summary>
    private const double MaxKeepAliveSeconds = 32_767;

    /// <summary>Ten years.</summary>
    private const double MaxPartialMaxAgeHours = 87_600;

    // The clock's resolution in practice; below it the age is nothing at all.
    private const double MinEvictionAgeSeconds = 0.001;

    /// <summary>One line per value out of its range, naming where each came from.</summary>
    private static List<string> RangeProblems(ServerSettings settings, Func<string, string> describe, out HostPort? hostPort)
    {
        var problems = new List<string>();
        if (!HostPort.TryParse(settings.Listen, out hostPort, out var error))
        {
            problems.Add($"{describe("--listen")}: {error}");
        }

        void Check(bool bad, string option, string rule, object value)
        {
            if (bad)
            {
                problems.Add($"{describe(option)} {rule}, not {Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)}");
            }
        }

        if (settings.Metrics is not null && !HostPort.TryParse(settings.Metrics, out _, out var metricsError))
        {
            problems.Add($"{describe("--metrics")}: {metricsError}");
        }

        if (settings.BandwidthLimit is not null && !BandwidthRate.TryParse(settings.BandwidthLimit, out _, out var rateError))
        {
            problems.Add($"{describe("--bwlimit")}: {rateError}");
        }

        // Every duration within what the timers, the kernel and TimeSpan take (and NaN out): a number given by mistake
        // is a usage line, not an exception at start or a keepalive the kernel silently refuses.
        Check(double.IsNaN(settings.ShutdownTimeoutSeconds), "--shutdown-timeout", "must be a number of seconds", settings.ShutdownTimeoutSeconds);
        Check(settings.ShutdownTimeoutSeconds < 0, "--shutdown-timeout", "cannot be negative", settings.ShutdownTimeoutSeconds);
        Check(settings.ShutdownTimeoutSeconds > MaxShutdownTimeoutSeconds, "--shutdown-timeout", $"must be at most {Invariant(MaxShutdownTimeoutSeconds)}", settings.ShutdownTimeoutSeconds);
        Check(settings.MaxFileSize < 0, "--max-file-size", "cannot be negative", settings.MaxFileSize);
        Check(double.IsNaN(settings.KeepAliveSeconds), "--keepalive", "must be a number of seconds", settings.KeepAliveSeconds);
        Check(settings.KeepAliveSeconds < 0, "--keepalive", "cannot be negative", settings.KeepAliveSeconds);
        Check(settings.KeepAliveSeconds > MaxKeepAliveSeconds, "--keepalive", $"must be at most {Invariant(MaxKeepAliveSeconds)} (the kernel's limit)", settings.KeepAliveSeconds);
        var partialProblem = SecondsProblem(settings.PartialMaxAgeHours, 0, MaxPartialMaxAgeHours);
        Check(partialProblem is not null, "--partial-max-age", partialProblem ?? string.Empty, settings.PartialMaxAgeHours);
        var idleProblem = SecondsProblem(settings.IdleTimeoutSeconds, 0, MaxIdleTimeoutSeconds);
        Check(idleProblem is not null, "--idle-timeout", idleProblem ?? string.Empty, settings.IdleTimeoutSeconds);
        Check(settings.MaxConnections <= 0, "--max-connections", "must be positive", settings.MaxConnections);
        Check(settings.MaxConnectionsPerAddress <= 0, "--max-connections-per-address", "must be positive", settings.MaxConnectionsPerAddress);
        Check(settings.MaxListEntries <= 0, "--max-list-entries", "must be positive", settings.MaxListEntries);

        if (settings.TlsKey is not null && settings.TlsCertificate is null)
        {
            // Checked with the rest, before the store is opened: a usage error leaves nothing behind under the root.
            problems.Add($"{describe("--tls-key")} needs {describe("--tls-cert")}");
        }

        var handshakeProblem = SecondsProblem(settings.HandshakeTimeoutSeconds, MinHandshakeTimeoutSeconds, MaxHandshakeTimeoutSeconds);
        Check(handshakeProblem is not null, "--handshake-timeout", handshakeProblem ?? string.Empty, settings.HandshakeTimeoutSeconds);
        if (settings.EvictionAgeSeconds is { } evictionAge)
        {
            var ageProblem = SecondsProblem(evictionAge, MinEvictionAgeSeconds, MaxHandshakeTimeoutSeconds);
            Check(ageProblem is not null, "--eviction-age", ageProblem ?? string.Empty, evictionAge);

            // Compared only when both are good, so that each value gets one line.
            Check(
                ageProblem is null && handshakeProblem is null && evictionAge >= settings.HandshakeTimeoutSeconds,
                "--eviction-age",
                $"must be less than {describe("--handshake-timeout")} ({Invariant(settings.HandshakeTimeoutSeconds)} s: a connection is closed at that deadline, so none would ever be evicted)",
                evictionAge);
        }

        return problems;
    }

    /// <summary>
    /// Why a duration (seconds, or hours) is out of <paramref name="min"/> to <paramref name="max"/>, or null when it is within;
    /// written so that NaN is out too.
    /// </summary>
    private static string? SecondsProblem(double seconds, double min, double max) =>
        !(seconds > 0) ? "must be positive"
        : seconds < min ? $"must be at least {Invariant(min)}"
        : seconds > max ? $"must be at most {Invariant(max)}"
        : null;

    private static string Invariant(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The metrics endpoint of <c>--metrics</c>, started; null when none is asked for or it cannot listen.</summary>
    private static async Task<MetricsEndpoint?> StartMetricsAsync(string? address, ServerMetrics metrics, Func<bool> healthy, ILogger logger, CancellationToken cancellationToken)
    {
        if (address is null || !HostPort.TryParse(address, out var hostPort, out _))
        {
            return null;
        }

        MetricsEndpoint? endpoint = null;
        try
        {
            endpoint = new MetricsEndpoint(await ResolveAsync(hostPort!, cancellationToken), new PrometheusExporter(metrics.Meter), healthy, logger);
            endpoint.Start();
            ServerLog.MetricsListening(logger, HostPort.Format(endpoint.LocalEndPoint));
            return endpoint;
        }
        catch (SocketException)
        {
            if (endpoint is not null)
            {
                await endpoint.DisposeAsync();
            }

            return null;
        }
    }

    /// <summary>The bytes of the files in the staging area; 0 while it cannot be read.</summary>
    private static long StagingBytes(string directory)
    {
        try
        {
            return new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Being cleaned up under the enumeration; the next reading counts it.
            return 0;
        }
    }

    /// <summary>Reloads the tokens file at each SIGHUP, telling systemd it reloads and when it is ready again.</summary>
    private static async Task ReloadOnSignalAsync(
        ChannelReader<bool> reloads, TokenAuthenticator? authenticator, string? tokensPath, SystemdNotifier systemd, string status, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            while (await reloads.WaitToReadAsync(cancellationToken))
            {
                reloads.TryRead(out _);
                await systemd.ReloadingAsync(cancellationToken);
                if (authenticator is null)
                {
                    ServerLog.NothingToReload(logger);
                }
                else
                {
                    TokensReload.TryReload(authenticator, tokensPath!, logger);
                }

                await systemd.ReadyAsync(status, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The server is stopping.
        }
    }
}
