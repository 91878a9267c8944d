using FileXfer.Protocol.Net;

namespace FileXfer.Client.Cli.Remotes;

/// <summary>
/// A named server from the client's configuration file: where it is and how to reach it. Each setting left out is
/// taken as if the remote were not used (from the option, the environment, or the default); an option given on the
/// command line overrides the remote's setting.
/// </summary>
internal sealed record RemoteSettings(string Name)
{
    public HostPort? Server { get; init; }

    public string? TokenFile { get; init; }

    public bool? Tls { get; init; }

    public string? Pin { get; init; }

    public string? KnownHosts { get; init; }

    public bool? TlsNoTofu { get; init; }

    public string? Algorithm { get; init; }

    public int? Retries { get; init; }

    public double? ConnectTimeout { get; init; }

    public double? Timeout { get; init; }

    /// <summary>The rate as written (<c>--bwlimit</c>), checked when the file is read.</summary>
    public string? BandwidthLimit { get; init; }
}
