using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using FileXfer.Protocol.Net;
using FileXfer.Server.Configuration;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;
using FileXfer.Server.Logging;
using FileXfer.Server.Metrics;
using FileXfer.Server.Security;
using FileXfer.Server.Storage;
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
            Description = "Most connections served at once; when full, the oldest connection still in its handshake makes room, else a new one is refused.",
            DefaultValueFactory = _ => new TcpServerOptions().MaxConnections,
        };
        var maxConnectionsPerAddress = new Option<int>("--max-connections-per-address")
        {
            Description = "Most connections served at once from one IP address.",
            DefaultValueFactory = _ => new TcpServerOptions().MaxConnectionsPerAddress,
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
            root, listen, shutdownTimeout, maxFileSize, idleTimeout, keepAlive, partialMaxAge, maxConnections, maxConnectionsPerAddress, maxListEntries,
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
                TimeSpan.FromSeconds(result.GetValue(shutdownTimeout)),
                result.GetValue(maxFileSize),
                TimeSpan.FromHours(result.GetValue(partialMaxAge)),
                TimeSpan.FromSeconds(result.GetValue(idleTimeout)),
                TimeSpan.FromSeconds(result.GetValue(keepAlive)),
                result.GetValue(maxConnections),
                result.GetValue(maxConnectionsPerAddress),
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

    /// <summary>
    /// Parses <paramref name="args"/> and runs the command. A usage error (unknown option, missing or invalid
    /// argument) prints one <c>filexfer-server: …</c> line per error on stderr, nothing on stdout, and exits 2;
    /// <c>--help</c> and <c>--version</c> win over errors, as the parser decides.
    /// </summary>
    /// <remarks>Settings are read from <c>environment</c>, by default the process's own variables.</remarks>
    public static async Task<int> InvokeAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        InvocationConfiguration configuration,
        Func<TextWriter>? logOutput = null,
        System.Collections.IDictionary? environment = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = ServerConfiguration.None(args);
        var command = Create(stdout, stderr, logOutput, name => settings.Describe(name));
        if (!Console.IsOutputRedirected)
        {
            // Help on a terminal wraps at its width, given here: System.CommandLine would ask Console.WindowWidth, and
            // System.Console then leaves the terminal in keypad mode.
            foreach (var help in command.Options.OfType<HelpOption>())
            {
                ((HelpAction)help.Action!).MaxWidth = StandardStream.TerminalColumns(StandardStream.Output) ?? 80;
            }
        }

        var result = command.Parse(args);
        if (result.CommandResult.Command == command && (result.Action is ParseErrorAction || result.Action == command.Action))
        {
            // The server itself (not --help, --version or a subcommand): settings from the file and the environment
            // come before the command line's, which override them.
            var configOption = command.Options.OfType<Option<FileInfo?>>().Single(o => o.Name == "--config");
            settings = ServerConfiguration.Build(command, configOption, result, args, environment ?? Environment.GetEnvironmentVariables());
            if (settings.Problems.Count > 0)
            {
                foreach (var problem in settings.Problems)
                {
                    await stderr.WriteLineAsync($"filexfer-server: {problem}");
                }

                await stderr.FlushAsync(cancellationToken);
                return (int)ServerExitCode.Usage;
            }

            result = command.Parse([.. settings.Arguments]);
        }

        if (result.Action is ParseErrorAction)
        {
            var lines = result.Errors.Select(error => UsageLine(error.Message)).ToList();
            for (int i = 0; i < lines.Count; i++)
            {
                var hint = i == lines.Count - 1 ? $" (see {CommandPath(result.CommandResult)} --help)" : string.Empty;
                await stderr.WriteLineAsync($"filexfer-server: {lines[i]}{hint}");
            }

            await stderr.FlushAsync(cancellationToken);
            return (int)ServerExitCode.Usage;
        }

        return await result.InvokeAsync(configuration, cancellationToken);
    }

    /// <summary>
    /// A parser message as one line in the style of the other errors: lower-case start, no final period, and the
    /// indented list of allowed values ("Must be one of:") joined onto the line.
    /// </summary>
    private static string UsageLine(string message)
    {
        var parts = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = parts.Length == 0 ? "invalid command line" : parts[0] + (parts.Length > 1 ? " " + string.Join(", ", parts[1..]) : string.Empty);
        line = line.TrimEnd('.');
        return line.Length > 0 && char.IsUpper(line[0]) ? char.ToLowerInvariant(line[0]) + line[1..] : line;
    }

    /// <summary>The command as typed, e.g. <c>filexfer-server token new</c> (the root's own name is the host's).</summary>
    private static string CommandPath(CommandResult command)
    {
        var names = new Stack<string>();
        for (var current = command; current is not null && current.Command is not RootCommand; current = current.Parent as CommandResult)
        {
            names.Push(current.Command.Name);
        }

        names.Push("filexfer-server");
        return string.Join(' ', names);
    }

    private sealed record ServerSettings(DirectoryInfo Root, string Listen, TimeSpan ShutdownTimeout, long MaxFileSize, TimeSpan PartialMaxAge, TimeSpan IdleTimeout, TimeSpan KeepAlive,
        int MaxConnections, int MaxConnectionsPerAddress, int MaxListEntries, LogLevel LogLevel, LogFormat LogFormat, bool Tls, FileInfo? TlsCertificate, FileInfo? TlsKey, FileInfo? Tokens, bool AllowAnonymous, string? Metrics, string? BandwidthLimit);

    private static async Task<ServerExitCode> RunAsync(
        ServerSettings settings, S3CommandLine.Settings? objectStore, TextWriter stdout, TextWriter stderr, Func<TextWriter> logOutput, Func<string, string> describe, CancellationToken cancellationToken)
    {
        var problems = RangeProblems(settings, describe, out var hostPort);
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                await stderr.WriteLineAsync($"filexfer-server: {problem}");
            }

            return ServerExitCode.Usage;
        }

        TokenAuthenticator? authenticator = null;
        if (settings.Tokens is { } tokensFile)
        {
            try
            {
                authenticator = new TokenAuthenticator(TokensFile.Load(tokensFile.FullName), new AuthThrottle(new AuthThrottleOptions()));
            }
            catch (TokensFileException ex)
            {
                await stderr.WriteLineAsync($"filexfer-server: {ex.Message}");
                return ServerExitCode.Usage;
            }

            if (authenticator.Count == 0)
            {
                await stderr.WriteLineAsync($"filexfer-server: tokens file '{tokensFile.FullName}' holds no token; no client could connect");
                return ServerExitCode.Usage;
            }
        }

        FileStore store;
        try
        {
            store = new FileStore(settings.Root.FullName, new FileStoreOptions { MaxFileSize = settings.MaxFileSize, PartialMaxAge = settings.PartialMaxAge, MaxListEntries = settings.MaxListEntries });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"filexfer-server: cannot use root '{settings.Root.FullName}': {ex.Message}");
            return ServerExitCode.Usage;
        }
        catch (PlatformNotSupportedException ex)
        {
            // The first use of the platform's file calls, on an architecture they do not know (see FileXfer.Platform.LinuxAbi).
            await stderr.WriteLineAsync($"filexfer-server: {ex.Message}");
            return ServerExitCode.Unexpected;
        }

        // With --store, the files are objects; the root keeps the server's own files (its TLS certificate).
        using var s3Store = objectStore is null ? null
            : await objectStore.TryOpenAsync(new S3StoreOptions { MaxFileSize = settings.MaxFileSize, PartialMaxAge = settings.PartialMaxAge, MaxListEntries = settings.MaxListEntries }, stderr, cancellationToken);
        if (objectStore is not null && s3Store is null)
        {
            return ServerExitCode.Usage;
        }

        if (settings.TlsKey is not null && settings.TlsCertificate is null)
        {
            await stderr.WriteLineAsync("filexfer-server: --tls-key needs --tls-cert");
            return ServerExitCode.Usage;
        }

        IPEndPoint endPoint;
        try
        {
            endPoint = await ResolveAsync(hostPort!, cancellationToken);
        }
        catch (SocketException ex)
        {
            await stderr.WriteLineAsync($"filexfer-server: cannot resolve '{hostPort!.Host}': {ex.Message}");
            return ServerExitCode.CannotListen;
        }

        if (!IPAddress.IsLoopback(endPoint.Address) && authenticator is null && !settings.AllowAnonymous)
        {
            // Secure by default: reachable from other machines means anyone there could read, replace and delete
            // every file under the root.
            await stderr.WriteLineAsync(
                $"filexfer-server: refusing to listen on {endPoint} without --tokens: anyone who can reach it could read and write every file; " +
                "give --tokens FILE (see 'filexfer-server token new') or, on a network you trust, --allow-anonymous");
            return ServerExitCode.Usage;
        }

        if (!IPAddress.IsLoopback(endPoint.Address) && !settings.Tls)
        {
            await stderr.WriteLineAsync($"filexfer-server: warning: listening on {endPoint} without --tls: paths and file contents cross the network in clear");
        }

        using var logProvider = new LineLoggerProvider(
            logOutput(), format: LogLineFormatter.Resolve(settings.LogFormat, Environment.GetEnvironmentVariable(LogLineFormatter.JournalStreamVariable)));
        using var loggerFactory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(settings.LogLevel)
            .AddProvider(logProvider));
        var logger = loggerFactory.CreateLogger("FileXfer.Server");

        ServerCertificate? certificate = null;
        if (settings.Tls)
        {
            try
            {
                certificate = LoadCertificate(store.Root, settings.TlsCertificate, settings.TlsKey, endPoint.Address);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
            {
                await stderr.WriteLineAsync($"filexfer-server: cannot use the TLS certificate: {ex.Message}");
                return ServerExitCode.Usage;
            }

            ServerLog.TlsCertificate(logger, certificate.Certificate.Subject, certificate.Source, CertificateFingerprint.Format(certificate.Fingerprint));
        }

        int stale = store.RemoveStaleUploads();
        if (stale > 0)
        {
            ServerLog.StaleUploadsRemoved(logger, stale);
        }

        if (authenticator is not null)
        {
            ServerLog.TokensLoaded(logger, authenticator.Count, settings.Tokens!.FullName);
        }

        using var serverMetrics = new ServerMetrics(() => StagingBytes(store.StagingDirectory));
        var handlerOptions = new FileXferHandlerOptions { IdleTimeout = settings.IdleTimeout, Tls = certificate?.Context, Authenticator = authenticator, Metrics = serverMetrics,
            BandwidthLimit = settings.BandwidthLimit is { } rate && BandwidthRate.TryParse(rate, out long bytesPerSecond, out _) ? bytesPerSecond : null,
        };
        await using var server = new TcpServer(
            endPoint,
            context => new FileXferRequestHandler(context, (IStore?)s3Store ?? store, handlerOptions, logger),
            logger,
            new TcpServerOptions
            {
                ShutdownTimeout = settings.ShutdownTimeout,
                MaxConnections = settings.MaxConnections,
                MaxConnectionsPerAddress = settings.MaxConnectionsPerAddress,
                KeepAliveInterval = settings.KeepAlive > TimeSpan.Zero ? settings.KeepAlive : null,
                Metrics = serverMetrics,
            });
        try
        {
            server.Start();
        }
        catch (SocketException ex)
        {
            await stderr.WriteLineAsync($"filexfer-server: cannot listen on {hostPort}: {ex.Message}");
            return ServerExitCode.CannotListen;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var metricsEndpoint = await StartMetricsAsync(settings.Metrics, serverMetrics, () => !stop.IsCancellationRequested, logger, cancellationToken);
        if (metricsEndpoint is null && settings.Metrics is not null)
        {
            await stderr.WriteLineAsync($"filexfer-server: cannot listen on {settings.Metrics} for --metrics");
            return ServerExitCode.CannotListen;
        }

        // Registered before the announcement: a supervisor or test that signals as soon as it reads the line must
        // get the drain and exit 0, not the runtime's default death by signal (143).
        int signals = 0;
        void OnSignal(PosixSignalContext context)
        {
            // The first signal drains; a second one means "now".
            context.Cancel = Interlocked.Increment(ref signals) == 1;
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        // SIGHUP reloads the tokens file (systemctl reload); without a handler it would end the process.
        var reloads = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
        });
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            reloads.Writer.TryWrite(true);
        });
        using var systemd = SystemdNotifier.FromEnvironment();

        await stdout.WriteLineAsync($"listening on {HostPort.Format(server.LocalEndPoint)}");
        if (certificate is not null)
        {
            await stdout.WriteLineAsync(FingerprintLine(certificate));
        }

        await stdout.FlushAsync(cancellationToken);
        await systemd.ReadyAsync($"listening on {HostPort.Format(server.LocalEndPoint)}", cancellationToken);

        var sweeping = SweepStaleUploadsAsync(store, logger, stop.Token);
        var reloading = ReloadOnSignalAsync(reloads.Reader, authenticator, settings.Tokens?.FullName, systemd, $"listening on {HostPort.Format(server.LocalEndPoint)}", logger, stop.Token);
        var sweepingObjects = s3Store is null ? Task.CompletedTask : S3CommandLine.SweepAsync(s3Store, logger, stop.Token);
        await server.ServeForeverAsync(stop.Token);
        await systemd.StoppingAsync($"draining, at most {settings.ShutdownTimeout.TotalSeconds:0.#} s", CancellationToken.None);
        await server.StopAsync();
        await sweeping;
        await reloading;
        await sweepingObjects;
        return ServerExitCode.Ok;
    }

    /// <summary>
    /// <c>filexfer-server fingerprint --root DIR</c>: prints the fingerprint of the certificate the server would use,
    /// generating the self-signed one if it does not exist yet, without starting, for operators to hand to clients.
    /// </summary>
    private static Command CreateFingerprintCommand(TextWriter stdout, TextWriter stderr)
    {
        var root = new Option<DirectoryInfo>("--root")
        {
            Description = "The server's root directory.",
            Required = true,
        };
        var tlsCert = new Option<FileInfo?>("--tls-cert") { Description = "The certificate the server is given, as for the server." };
        var tlsKey = new Option<FileInfo?>("--tls-key") { Description = "Its private key, when not in the same file." };
        var command = new Command("fingerprint", "Print the SHA-256 fingerprint of the server's TLS certificate (generating the self-signed one if there is none yet) and exit.")
        {
            root, tlsCert, tlsKey,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var directory = result.GetValue(root)!;
            if (!directory.Exists)
            {
                await stderr.WriteLineAsync($"filexfer-server: cannot use root '{directory.FullName}': it does not exist");
                return (int)ServerExitCode.Usage;
            }

            try
            {
                var certificate = LoadCertificate(directory.FullName, result.GetValue(tlsCert), result.GetValue(tlsKey), listenAddress: null);
                await stdout.WriteLineAsync(FingerprintLine(certificate));
                return (int)ServerExitCode.Ok;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
            {
                await stderr.WriteLineAsync($"filexfer-server: cannot use the TLS certificate: {ex.Message}");
                return (int)ServerExitCode.Usage;
            }
        });
        return command;
    }

    private static ServerCertificate LoadCertificate(string root, FileInfo? certificate, FileInfo? key, IPAddress? listenAddress) =>
        certificate is not null
            ? ServerCertificate.Load(certificate.FullName, key?.FullName)
            : ServerCertificate.LoadOrCreate(root, listenAddress);

    private static string FingerprintLine(ServerCertificate certificate) =>
        $"TLS certificate SHA-256 fingerprint: {CertificateFingerprint.Format(certificate.Fingerprint)}";

    /// <summary>Removes partial uploads older than their maximum age, a few times per age and at least hourly.</summary>
    private static async Task SweepStaleUploadsAsync(FileStore store, ILogger logger, CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromTicks(Math.Clamp(store.Options.PartialMaxAge.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromHours(1).Ticks));
        using var timer = new PeriodicTimer(period, store.Options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                int removed = store.RemoveStaleUploads();
                if (removed > 0)
                {
                    ServerLog.StaleUploadsRemoved(logger, removed);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The server is stopping.
        }
    }

    private static async Task<IPEndPoint> ResolveAsync(HostPort hostPort, CancellationToken cancellationToken)
    {
        if (hostPort.Host is "*" or "0.0.0.0")
        {
            return new IPEndPoint(IPAddress.Any, hostPort.Port);
        }

        if (IPAddress.TryParse(hostPort.Host, out var address))
        {
            return new IPEndPoint(address, hostPort.Port);
        }

        var addresses = await Dns.GetHostAddressesAsync(hostPort.Host, cancellationToken);
        var chosen = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new SocketException((int)SocketError.HostNotFound);
        return new IPEndPoint(chosen, hostPort.Port);
    }
}
