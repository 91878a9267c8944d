namespace FileXfer.Client;

/// <summary>Settings of a <see cref="FileXferClient"/>.</summary>
public sealed class FileXferClientOptions
{
    /// <summary>The clock the handshake's round trip (<see cref="FileXferClient.HandshakeRoundTrip"/>) and the idle timeout (<see cref="IdleTimeout"/>) are measured on.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>How long to wait for the TCP connection and the handshake. Default: 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A read or write that makes no progress for this long means the connection stalled. Default: 60 seconds.</summary>
    public TimeSpan? IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The hash algorithm for transfers. Default: <c>sha256</c>.</summary>
    public string HashAlgorithm { get; set; } = HashAlgorithms.Default;

    /// <summary>The most entries accepted from one listing; a server that sends more is refused.</summary>
    public int MaxListEntries { get; set; } = ProtocolLimits.MaxListEntries;

    /// <summary>TLS under the connection, and how the server is verified; null for plaintext. Default: null.</summary>
    public Tls.ClientTlsOptions? Tls { get; set; }

    /// <summary>The agent string sent to the server.</summary>
    public string Agent { get; set; } = $"filexfer/{typeof(FileXferClientOptions).Assembly.GetName().Version?.ToString(3) ?? "0"}";

    /// <summary>
    /// The token to authenticate with when the server requires one; null for none. A server that does not ask
    /// for a token never receives anything derived from it.
    /// </summary>
    public FileXferCredential? Credential { get; set; }

    /// <summary>
    /// The run the connections belong to: connections made with the same options share it, so one that is given
    /// up on is declared to the server by the next (see <see cref="Resilience.ClientRun"/>).
    /// </summary>
    public Resilience.ClientRun Run { get; set; } = new();

    /// <summary>
    /// The rate every connection made with these options keeps to together (<c>--bwlimit</c>): they share the bucket.
    /// Default: null, no limit.
    /// </summary>
    public FileXfer.Protocol.Net.TokenBucket? BandwidthLimit { get; set; }

    /// <summary>
    /// Compress bodies on the wire (<c>--compress</c>) when the server announces <see cref="Capabilities.Compression"/>;
    /// with a server that does not, bodies go as they are. Hashes, sizes and progress stay those of the file. Default: false.
    /// </summary>
    public bool Compress { get; set; }

    /// <summary>TCP settings of each connection (<see cref="FileXfer.Protocol.Net.TcpTuning"/>). Default: what the environment asks for, else none.</summary>
    public FileXfer.Protocol.Net.TcpTuning Tcp { get; set; } = FileXfer.Protocol.Net.TcpTuning.FromEnvironment();
}
