using System.CommandLine;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;

namespace FileXfer.Client.Cli;

/// <summary>The options every command takes, and how they turn into client settings.</summary>
internal sealed class GlobalOptions
{
    public const string ServerVariable = "FILEXFER_SERVER";

    public Option<string?> Server { get; } = new("--server", "-s")
    {
        Description = $"Server address HOST:PORT (default: ${ServerVariable}, else {HostPort.Default}).",
        Recursive = true,
    };

    public Option<bool> Quiet { get; } = new("--quiet", "-q")
    {
        Description = "No progress bar and no summary lines; errors are still printed.",
        Recursive = true,
    };

    public Option<double> ConnectTimeout { get; } = new("--connect-timeout")
    {
        Description = "Seconds to wait for the server to accept and greet.",
        DefaultValueFactory = _ => 10,
        Recursive = true,
    };

    public Option<int> RetriesOption { get; } = new("--retries")
    {
        Description = "Retries after a transient failure (connection refused, lost or stalled, data corrupted in flight), with backoff; each resumes what was proven. 0 disables.",
        DefaultValueFactory = _ => 3,
        Recursive = true,
    };

    public Option<double> Timeout { get; } = new("--timeout")
    {
        Description = "Seconds without progress after which a connection counts as stalled.",
        DefaultValueFactory = _ => 60,
        Recursive = true,
    };

    public Option<string> Algorithm { get; } = new("--algorithm", "-a")
    {
        Description = $"Hash algorithm: {string.Join(", ", HashAlgorithms.Supported)}.",
        DefaultValueFactory = _ => HashAlgorithms.Default,
    };

    public HostPort ResolveServer(ParseResult result, CliConsole console)
    {
        var text = result.GetValue(Server) ?? console.GetEnvironmentVariable(ServerVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return HostPort.Default;
        }

        return HostPort.TryParse(text, out var server, out var error)
            ? server!
            : throw new UserFacingException(ExitCode.Usage, $"bad server address: {error}");
    }

    public FileXferClientOptions ClientOptions(ParseResult result, string? algorithm = null)
    {
        var seconds = result.GetValue(ConnectTimeout);
        if (!(seconds > 0))
        {
            throw new UserFacingException(ExitCode.Usage, "--connect-timeout must be a positive number of seconds");
        }

        algorithm ??= HashAlgorithms.Default;
        if (!HashAlgorithms.IsSupported(algorithm))
        {
            throw new UserFacingException(ExitCode.Usage, $"unknown hash algorithm '{algorithm}'; use one of {string.Join(", ", HashAlgorithms.Supported)}");
        }

        var timeout = result.GetValue(Timeout);
        if (!(timeout > 0))
        {
            throw new UserFacingException(ExitCode.Usage, "--timeout must be a positive number of seconds");
        }

        return new FileXferClientOptions { ConnectTimeout = TimeSpan.FromSeconds(seconds), IdleTimeout = TimeSpan.FromSeconds(timeout), HashAlgorithm = algorithm };
    }

    public int Retries(ParseResult result)
    {
        int retries = result.GetValue(RetriesOption);
        return retries is >= 0 and <= 100 ? retries : throw new UserFacingException(ExitCode.Usage, "--retries takes a number from 0 to 100");
    }
}
