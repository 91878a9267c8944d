using System.CommandLine;
using FileXfer.Protocol.Net;
using FileXfer.Server.Configuration;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;
using FileXfer.Server.Logging;
using FileXfer.Server.Security;
using FileXfer.Server.Storage.Local;
using FileXfer.Server.Storage.S3;
using FileXfer.Server.Tls;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server;

/// <summary>The <c>filexfer-server</c> command line: options to settings, settings to a running server.</summary>
internal static partial class ServerCommand
{
    private const string ExitCodesHelp = """
        Exit codes:
          0  stopped cleanly (SIGINT or SIGTERM)
          1  unexpected error
          2  usage error or unusable root directory
          3  cannot listen on the address
        """;

    /// <summary>The command; <c>describe</c> is how messages name an option's value (see <see cref="ServerConfiguration.Describe"/>).</summary>
    public static RootCommand Create(TextWriter stdout, TextWriter stderr, Func<TextWriter>? logOutput = null, Func<string, string>? describe = null)
    {
        var root = new Option<DirectoryInfo>("--root")
        {
            Description = "Directory that holds the stored files; every remote path is confined to it.",
            Required = true,
        };
        var listen = new Option<string>("--listen")
        {
            Description = "Address to listen on, HOST:PORT. Port 0 picks a free port.",
            DefaultValueFactory = _ => HostPort.Default.ToString(),
        };
        var shutdownTimeout = new Option<double>("--shutdown-timeout")
        {
            Description = "Seconds to let transfers in flight finish after SIGINT/SIGTERM.",
            DefaultValueFactory = _ => 30,
        };
        var maxFileSize = new Option<long>("--max-file-size")
        {
            Description = "Largest file accepted, in bytes.",
            DefaultValueFactory = _ => new FileStoreOptions().MaxFileSize,
        };
        var idleTimeout = new Option<double>("--idle-timeout")
        {
            Description = "Seconds without progress after which a connection is closed (an idle client, a stalled transfer).",
            DefaultValueFactory = _ => new FileXferHandlerOptions().IdleTimeout.TotalSeconds,
        };
        var keepAlive = new Option<double>("--keepalive")
        {
            Description = "Seconds a connection may be silent before TCP keepalive probes it, then the interval of the probes; after "
                + $"{new TcpServerOptions().KeepAliveProbes} unanswered ones it is dropped, so a client that vanished without closing is noticed "
                + "and a partial upload it held is freed for its retry. 0 turns keepalive off.",
            DefaultValueFactory = _ => new TcpServerOptions().KeepAliveInterval!.Value.TotalSeconds,
        };
        var partialMaxAge = new Option<double>("--partial-max-age")
        {
            Description = "Hours an interrupted upload is kept for resuming before it is removed (checked at start-up and periodically).",
            DefaultValueFactory = _ => new FileStoreOptions().PartialMaxAge.TotalHours,
        };
        var allowAnonymous = new Option<bool>("--allow-anonymous")
        {
            Description = "Serve clients without a token on an address other machines can reach (without it, such an address needs --tokens).",
        };
        var tls = new Option<bool>("--tls")
        {
            Description = "Accept only TLS connections. Without --tls-cert, a self-signed certificate is generated on first start and kept in ROOT/.filexfer/tls.",
        };
        var tlsCert = new Option<FileInfo?>("--tls-cert")
        {
            Description = "TLS certificate: PEM with its key (or the key in --tls-key), or PKCS#12 (.pfx, .p12; password in $" + ServerCertificate.PfxPasswordVariable + "). Implies --tls.",
        };
        var tlsKey = new Option<FileInfo?>("--tls-key")
        {
            Description = "PEM private key of --tls-cert, when it is not in the same file.",
        };
        var maxConnections = new Option<int>("--max-connections")
        {
            Description = "Most connections served at once; when full, the oldest connection that has been in its handshake for --eviction-age or more "
                + "is closed to make room for a new one, and when none has, the new one is refused as busy.",
            DefaultValueFactory = _ => new TcpServerOptions().MaxConnections,
        };
        var maxConnectionsPerAddress = new Option<int>("--max-connections-per-address")
        {
            Description = "Most connections served at once from one IP address; over it, as over --max-connections, the oldest from that address "
                + "in its handshake for --eviction-age or more makes room, else the new one is refused as busy.",
            DefaultValueFactory = _ => new TcpServerOptions().MaxConnectionsPerAddress,
        };
        var handshakeTimeout = new Option<double>("--handshake-timeout")
        {
            Description = "Seconds a new connection has, from its accept, to complete its handshake (TLS, Hello and Welcome, authentication); "
                + $"progress does not extend it. Raise it for slow links (satellite). From {MinHandshakeTimeoutSeconds} to {MaxHandshakeTimeoutSeconds}.",
            DefaultValueFactory = _ => new TcpServerOptions().HandshakeTimeout.TotalSeconds,
        };
        var evictionAge = new Option<double>("--eviction-age")
        {
            Description = "Seconds a connection must have been in its handshake before a full server closes it to make room for a new one; "
                + "younger ones look like handshakes under way, and the new one is refused as busy instead. Lower it under a flood of half-open "
                + $"connections. From {MinEvictionAgeSeconds} to less than --handshake-timeout. Default: a tenth of --handshake-timeout.",
        };
        var maxListEntries = new Option<int>("--max-list-entries")
        {
            Description = "Most entries one directory may hold to be listed (a listing holds its names while it is sent); a larger directory is refused as too large. Trees are not limited: they are listed directory by directory.",
            DefaultValueFactory = _ => new FileStoreOptions().MaxListEntries,
        };
        var logLevel = new Option<LogLevel>("--log-level")
        {
            Description = "Least severe log level written to stderr.",
            DefaultValueFactory = _ => LogLevel.Information,
        };
        var logFormat = new Option<LogFormat>("--log-format")
        {
            Description = "Log line format on stderr: text, journal (syslog priority prefixes for systemd's journal, no time), json (one object per line), "
                + "or auto: journal when systemd connected stderr to the journal, else text.",
            DefaultValueFactory = _ => LogFormat.Auto,
        };
        var metrics = new Option<string?>("--metrics")
        {
            Description = "Serve Prometheus metrics on http://HOST:PORT/metrics and a health check on /healthz (200 while serving, 503 once draining). Off by default; the meter FileXfer.Server is always there for dotnet-counters.",
            HelpName = "HOST:PORT",
        };
        var bandwidthLimit = new Option<string?>("--bwlimit")
        {
            Description = "Most bytes per second each connection may move: KiB per second, or with a suffix B, K, M or G (500, 1.5M). Off by default; with it, files are not sent with sendfile.",
            HelpName = "RATE",
        };
        var config = new Option<FileInfo?>("--config")
        {
            Description = "Settings file: 'key = value' lines, a key for each option here, its name without the dashes (max-connections = 200). "
                + "Environment variables FILEXFER_SERVER_<KEY> (FILEXFER_SERVER_MAX_CONNECTIONS) override it, options given here override both. "
                + "Also $" + ServerConfiguration.ConfigVariable + ".",
            HelpName = "FILE",
        };
        var tokens = new Option<FileInfo?>("--tokens")
        {
            Description = "Tokens file (lines 'NAME ro|rw[:/subtree] SECRET', mode 600): clients must authenticate with one. Without it the server is anonymous.",
        };

        var command = new RootCommand("FileXfer server: stores files under one root directory and serves them over TCP.\n\n" + ExitCodesHelp)
        {
            root, listen, shutdownTimeout, maxFileSize, idleTimeout, keepAlive, partialMaxAge, maxConnections, maxConnectionsPerAddress, handshakeTimeout, evictionAge, maxListEntries,
            tokens, allowAnonymous, tls, tlsCert, tlsKey, logLevel, logFormat, metrics, bandwidthLimit, config,
            CreateFingerprintCommand(stdout, stderr),
        };
        command.Subcommands.Add(TokenCommand.Create(stdout, stderr));
        var objectStore = S3CommandLine.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var settings = new ServerSettings(
                result.GetValue(root)!,
                result.GetValue(listen)!,
                result.GetValue(shutdownTimeout),
                result.GetValue(maxFileSize),
                result.GetValue(partialMaxAge),
                result.GetValue(idleTimeout),
                result.GetValue(keepAlive),
                result.GetValue(maxConnections),
                result.GetValue(maxConnectionsPerAddress),
                result.GetValue(handshakeTimeout),
                // No default value: without it there is no result, and the age follows the handshake timeout.
                result.GetResult(evictionAge) is null ? null : result.GetValue(evictionAge),
                result.GetValue(maxListEntries),
                result.GetValue(logLevel),
                result.GetValue(logFormat),
                result.GetValue(tls) || result.GetValue(tlsCert) is not null,
                result.GetValue(tlsCert),
                result.GetValue(tlsKey),
                result.GetValue(tokens),
                result.GetValue(allowAnonymous),
                result.GetValue(metrics),
                result.GetValue(bandwidthLimit));
            return (int)await RunAsync(settings, objectStore.Read(result), stdout, stderr, logOutput ?? (() => stderr), describe ?? (name => name), cancellationToken);
        });
        return command;
    }

    /// <remarks>
    /// Durations are kept as the numbers given (seconds; hours for the partials' age) and checked by
    /// <see cref="RangeProblems"/> before their <see cref="TimeSpan"/>s are read: NaN or 1e300 must be a usage line, not
    /// the exception <see cref="TimeSpan.FromSeconds(double)"/> throws.
    /// </remarks>
    private sealed record ServerSettings(DirectoryInfo Root, string Listen, double ShutdownTimeoutSeconds, long MaxFileSize, double PartialMaxAgeHours, double IdleTimeoutSeconds, double KeepAliveSeconds,
        int MaxConnections, int MaxConnectionsPerAddress, double HandshakeTimeoutSeconds, double? EvictionAgeSeconds, int MaxListEntries, LogLevel LogLevel, LogFormat LogFormat, bool Tls, FileInfo? TlsCertificate, FileInfo? TlsKey, FileInfo? Tokens, bool AllowAnonymous, string? Metrics, string? BandwidthLimit)
    {
        public TimeSpan ShutdownTimeout => TimeSpan.FromSeconds(ShutdownTimeoutSeconds);

        public TimeSpan PartialMaxAge => TimeSpan.FromHours(PartialMaxAgeHours);

        public TimeSpan IdleTimeout => TimeSpan.FromSeconds(IdleTimeoutSeconds);

        public TimeSpan KeepAlive => TimeSpan.FromSeconds(KeepAliveSeconds);
    }
}
