using System.CommandLine;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;

namespace FileXfer.Client.Cli;

/// <summary>The options every command takes, and how they turn into client settings.</summary>
internal sealed class GlobalOptions
{
    public const string ServerVariable = "FILEXFER_SERVER";

    public const string TokenVariable = "FILEXFER_TOKEN";

    public Option<string?> Server { get; } = new("--server", "-s")
    {
        Description = $"Server address HOST:PORT (default: ${ServerVariable}, else {HostPort.Default}).",
        Recursive = true,
    };

    public Option<string?> TokenFile { get; } = new("--token-file")
    {
        Description = $"File holding the token NAME:SECRET (mode 600) for a server that requires one (default: ${TokenVariable}).",
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

    /// <summary>
    /// The token from <c>--token-file</c> (its first line that is neither empty nor a <c>#</c> comment), else from
    /// <c>FILEXFER_TOKEN</c>; null when neither is given. A token file that group or others can read or write is refused.
    /// </summary>
    public FileXferCredential? ResolveCredential(ParseResult result, CliConsole console)
    {
        string text;
        string source;
        if (result.GetValue(TokenFile) is { } path)
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
