namespace FileXfer.Client.Tls;

/// <summary>
/// How a <see cref="FileXferClient"/> puts TLS under its connection and decides to trust the server. The server is
/// trusted, in this order: when <see cref="PinnedFingerprint"/> is set, only if its certificate has that
/// fingerprint; else when its certificate is valid under the system's trust store for the host name; else when the
/// known hosts file records its fingerprint for <c>HOST:PORT</c> (a different one fails); else, with
/// <see cref="TrustOnFirstUse"/>, its fingerprint is recorded and trusted from then on. A client with TLS options
/// never falls back to plaintext.
/// </summary>
public sealed class ClientTlsOptions
{
    /// <summary>
    /// The SHA-256 fingerprint the server's certificate must have (64 hex digits, colons allowed), or null.
    /// </summary>
    public string? PinnedFingerprint { get; set; }

    /// <summary>The known hosts file: lines of <c>HOST:PORT FINGERPRINT</c>. Null: none is read or written.</summary>
    public string? KnownHostsFile { get; set; }

    /// <summary>Whether an unknown server whose certificate the system does not trust is recorded and trusted. Default: true.</summary>
    public bool TrustOnFirstUse { get; set; } = true;

    /// <summary>Told when a new server was trusted on first use and recorded in <see cref="KnownHostsFile"/>.</summary>
    public Action<TrustedNewServer>? NewServerTrusted { get; set; }
}
