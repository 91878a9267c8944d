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

        return new FileXferClientOptions { ConnectTimeout = TimeSpan.FromSeconds(seconds), HashAlgorithm = algorithm };
    }
}
