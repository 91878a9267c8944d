namespace FileXfer.Client.Tls;

/// <summary>A server trusted on first use.</summary>
/// <param name="Server">Its <c>HOST:PORT</c>.</param>
/// <param name="Fingerprint">The fingerprint of its certificate, as recorded.</param>
/// <param name="KnownHostsFile">The file it was recorded in.</param>
public sealed record TrustedNewServer(string Server, string Fingerprint, string KnownHostsFile);
