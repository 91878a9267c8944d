using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using FileXfer.Protocol.Net;
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

/// <summary>
/// Running the server: the settings checked, the store, tokens, certificate and log opened, the host started and
/// announced, signals handled, then the drain.
/// </summary>
internal static partial class ServerCommand
{
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

        int stale = await store.RemoveStaleUploadsAsync(cancellationToken);
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
        var serverOptions = new TcpServerOptions
        {
            ShutdownTimeout = settings.ShutdownTimeout,
            MaxConnections = settings.MaxConnections,
            MaxConnectionsPerAddress = settings.MaxConnectionsPerAddress,
            HandshakeTimeout = TimeSpan.FromSeconds(settings.HandshakeTimeoutSeconds),
            KeepAliveInterval = settings.KeepAlive > TimeSpan.Zero ? settings.KeepAlive : null,
            Metrics = serverMetrics,
        };
        if (settings.EvictionAgeSeconds is { } age)
        {
            // Unset, it follows the handshake timeout.
            serverOptions.EvictionAge = TimeSpan.FromSeconds(age);
        }

        await using var server = new TcpServer(
            endPoint,
            context => new FileXferRequestHandler(context, (IStore?)s3Store ?? store, handlerOptions, logger),
            logger,
            serverOptions);
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

    /// <summary>Removes partial uploads older than their maximum age, a few times per age and at least hourly.</summary>
    private static async Task SweepStaleUploadsAsync(FileStore store, ILogger logger, CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromTicks(Math.Clamp(store.Options.PartialMaxAge.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromHours(1).Ticks));
        using var timer = new PeriodicTimer(period, store.Options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                int removed = await store.RemoveStaleUploadsAsync(cancellationToken);
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
