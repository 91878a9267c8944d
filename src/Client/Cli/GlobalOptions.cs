using System.CommandLine;
using FileXfer.Client.Cli.Remotes;
using FileXfer.Client.Tls;
using FileXfer.Protocol.Net;

namespace FileXfer.Client.Cli;

/// <summary>The options every command takes, and how they turn into client settings.</summary>
internal sealed class GlobalOptions
{
    public const string ServerVariable = "FILEXFER_SERVER";

    public const string TlsVariable = "FILEXFER_TLS";
    public const string TokenVariable = "FILEXFER_TOKEN";

    public Option<string?> Server { get; } = new("--server", "-s")
    {
        Description = $"Server address HOST:PORT (default: ${ServerVariable}, else {HostPort.Default}).",
        Recursive = true,
    };

    public Option<string?> RemoteOption { get; } = new("--remote")
    {
        Description = $"Use the server named NAME in the configuration file (${ClientConfigFile.ConfigVariable}, else ~/.config/filexfer/config): its address, token file, TLS, pin, algorithm, retries and timeouts, unless given here. Also NAME:path in a remote path.",
        HelpName = "NAME",
        Recursive = true,
    };

    /// <summary>The remote the command line names (set before the command runs), or null.</summary>
    public RemoteSettings? Remote { get; set; }

    public Option<string?> TokenFile { get; } = ValueChecks.NotEmpty(new Option<string?>("--token-file")
    {
        Description = $"File holding the token NAME:SECRET (mode 600) for a server that requires one (default: ${TokenVariable}).",
        Recursive = true,
    });

    public Option<bool> Quiet { get; } = new("--quiet", "-q")
    {
        Description = "No progress bar and no summary lines; errors are still printed.",
        Recursive = true,
    };

    public Option<double> ConnectTimeout { get; } = ValueChecks.Seconds(new("--connect-timeout")
    {
        Description = "Seconds to wait for the server to accept and greet.",
        DefaultValueFactory = _ => 10,
        Recursive = true,
    });

    public Option<int> RetriesOption { get; } = ValueChecks.Between(
        new("--retries")
        {
            Description = "Retries after a transient failure (connection refused, lost or stalled, data corrupted in flight), with backoff; each resumes what was proven. 0 disables.",
            DefaultValueFactory = _ => 3,
            Recursive = true,
        },
        0,
        100);

    public Option<double> Timeout { get; } = ValueChecks.Seconds(new("--timeout")
    {
        Description = "Seconds without progress after which a connection counts as stalled.",
        DefaultValueFactory = _ => 60,
        Recursive = true,
    });

    public Option<bool> Tls { get; } = new("--tls")
    {
        Description = $"Connect with TLS and verify the server (also ${TlsVariable}=1); never falls back to plaintext.",
        Recursive = true,
    };

    public Option<string?> Pin { get; } = new("--pin")
    {
        Description = "Trust the server only if its certificate has this SHA-256 fingerprint (64 hex digits, colons allowed; as 'filexfer-server fingerprint' prints it). Implies --tls.",
        Recursive = true,
    };

    public Option<string?> KnownHosts { get; } = new("--known-hosts")
    {
        Description = "File of trusted servers' fingerprints (default: $XDG_CONFIG_HOME/filexfer/known_hosts, else ~/.config/filexfer/known_hosts).",
        Recursive = true,
    };

    public Option<bool> TlsNoTofu { get; } = new("--tls-no-tofu")
    {
        Description = "Do not trust a new server on first use: only --pin, the system's trust store or the known hosts file.",
        Recursive = true,
    };

    public Option<string?> BandwidthLimit { get; } = Rate(new Option<string?>("--bwlimit")
    {
        Description = "Keep the transfer to this rate, all connections together: KiB per second, or with a suffix B, K, M or G (500, 1.5M), as rsync's --bwlimit.",
        HelpName = "RATE",
        Recursive = true,
    });

    public Option<bool> Compress { get; } = new("--compress")
    {
        Description = "Compress file contents on the wire (zstd; blocks that do not shrink go as they are) when the server supports it, else send them as they are. For slow links and compressible data.",
        Recursive = true,
    };

    public Option<string> Algorithm { get; } = new("--algorithm", "-a")
    {
        Description = $"Hash algorithm: {string.Join(", ", HashAlgorithms.Supported)}.",
        DefaultValueFactory = _ => HashAlgorithms.Default,
    };

    public HostPort ResolveServer(ParseResult result, CliConsole console)
    {
        if (result.GetValue(Server) is null && Remote?.Server is { } remoteServer)
        {
            return remoteServer;
        }

        var text = result.GetValue(Server) ?? console.GetEnvironmentVariable(ServerVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return HostPort.Default;
        }

        return HostPort.TryParse(text, out var server, out var error)
            ? server!
            : throw new UserFacingException(ExitCode.Usage, $"bad server address: {error}");
    }

    /// <summary>
    /// The token from <c>--token-file</c> (its first line that is neither empty nor a <c>#</c> comment), else from
    /// <c>FILEXFER_TOKEN</c>; null when neither is given. A token file that group or others can read or write is refused.
    /// </summary>
    public FileXferCredential? ResolveCredential(ParseResult result, CliConsole console)
    {
        string text;
        string source;
        if ((result.GetValue(TokenFile) ?? Remote?.TokenFile) is { } path)
        {
            source = $"token file '{path}'";
            text = ReadTokenFile(path);
        }
        else if (console.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } variable)
        {
            source = TokenVariable;
            text = variable.Trim();
        }
        else
        {
            return null;
        }

        return FileXferCredential.TryParse(text, out var credential, out var error)
            ? credential
            : throw new UserFacingException(ExitCode.Usage, $"{source}: {error}");
    }

    private static string ReadTokenFile(string path)
    {
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                var mode = File.GetUnixFileMode(path);
                if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
                {
                    throw new UserFacingException(ExitCode.Denied, $"token file '{path}' is readable or writable by group or others; run chmod 600 on it");
                }
            }

            foreach (var line in File.ReadLines(path))
            {
                var trimmed = line.Trim();
                if (trimmed.Length > 0 && !trimmed.StartsWith('#'))
                {
                    return trimmed;
                }
            }
        }
        catch (FileNotFoundException)
        {
            throw new UserFacingException(ExitCode.NotFound, $"token file '{path}' not found");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UserFacingException(ExitCode.Denied, $"cannot read token file '{path}': {ex.Message}");
        }

        throw new UserFacingException(ExitCode.Usage, $"token file '{path}' holds no token (NAME:SECRET)");
    }

    public FileXferClientOptions ClientOptions(ParseResult result, CliConsole console, string? algorithm = null)
    {
        if (Remote?.Algorithm is { } remoteAlgorithm && result.GetResult(Algorithm) is not { Implicit: false })
        {
            algorithm = remoteAlgorithm;
        }

        algorithm ??= HashAlgorithms.Default;
        if (!HashAlgorithms.IsSupported(algorithm))
        {
            throw new UserFacingException(ExitCode.Usage, $"unknown hash algorithm '{algorithm}'; use one of {string.Join(", ", HashAlgorithms.Supported)}");
        }

        // Both were checked by the parser (ValueChecks.Seconds).
        return new FileXferClientOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(Given(result, ConnectTimeout, Remote?.ConnectTimeout)),
            IdleTimeout = TimeSpan.FromSeconds(Given(result, Timeout, Remote?.Timeout)),
            HashAlgorithm = algorithm,
            Tls = TlsOptions(result, console),
            BandwidthLimit = (result.GetValue(BandwidthLimit) ?? Remote?.BandwidthLimit) is { } rate && BandwidthRate.TryParse(rate, out long bytesPerSecond, out _)
                ? new TokenBucket(bytesPerSecond)
                : null,
            Compress = result.GetValue(Compress),
        };
    }

    /// <summary>The TLS settings, or null for plaintext.</summary>
    public ClientTlsOptions? TlsOptions(ParseResult result, CliConsole console)
    {
        var pin = result.GetValue(Pin) ?? Remote?.Pin;
        var tlsVariable = console.GetEnvironmentVariable(TlsVariable);
        if (!result.GetValue(Tls) && Remote?.Tls != true && pin is null && tlsVariable is not ("1" or "true" or "yes"))
        {
            return null;
        }

        if (pin is not null && !Protocol.Net.CertificateFingerprint.TryParse(pin, out _))
        {
            throw new UserFacingException(ExitCode.Usage, $"--pin '{pin}' is not a SHA-256 fingerprint (64 hex digits, colons allowed)");
        }

        var knownHosts = result.GetValue(KnownHosts) ?? Remote?.KnownHosts;
        if (knownHosts is not null && string.IsNullOrWhiteSpace(knownHosts))
        {
            throw new UserFacingException(ExitCode.Usage, "--known-hosts needs a file name");
        }

        return new ClientTlsOptions
        {
            PinnedFingerprint = pin,
            KnownHostsFile = knownHosts ?? DefaultKnownHostsFile(console),
            TrustOnFirstUse = !result.GetValue(TlsNoTofu) && Remote?.TlsNoTofu != true,
            // Printed even with --quiet: trusting a server is a security decision the user must be able to see.
            NewServerTrusted = trusted => console.Error.WriteLine(
                $"filexfer: trusting new server {trusted.Server} (TLS certificate SHA-256 {trusted.Fingerprint}), recorded in {trusted.KnownHostsFile}"),
        };
    }

    private static string? DefaultKnownHostsFile(CliConsole console)
    {
        var config = console.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg)
            ? xdg
            : console.GetEnvironmentVariable("HOME") is { Length: > 0 } home ? Path.Combine(home, ".config") : null;
        return config is null ? null : Path.Combine(config, "filexfer", "known_hosts");
    }

    /// <summary>The number of retries, from 0 to 100 (checked by the parser).</summary>
    public int Retries(ParseResult result) => Given(result, RetriesOption, Remote?.Retries);

    private static Option<string?> Rate(Option<string?> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !BandwidthRate.TryParse(result.Tokens[^1].Value, out _, out var error))
            {
                result.AddError($"--bwlimit: {error}");
            }
        });
        return option;
    }

    /// <summary>The option's value when given on the command line, else the remote's setting, else the option's default.</summary>
    private static T Given<T>(ParseResult result, Option<T> option, T? remote)
        where T : struct =>
        result.GetResult(option) is not { Implicit: false } && remote is { } value ? value : result.GetValue(option);
}
