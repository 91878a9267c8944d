using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FileXfer.Protocol.Net;

namespace FileXfer.Client.Tls;

/// <summary>
/// Decides during the TLS handshake whether to trust the server (the order is on <see cref="ClientTlsOptions"/>).
/// A refusal keeps its reason for <see cref="TlsConnector"/> to throw; a server trusted on first use is recorded
/// only after the handshake succeeded (<see cref="RecordIfNew"/>).
/// </summary>
internal sealed class ServerCertificateVerifier(string server, ClientTlsOptions options)
{
    private byte[]? _newServer;

    /// <summary>Why the certificate was refused, when it was.</summary>
    public ServerCertificateException? Failure { get; private set; }

    /// <summary>The <see cref="RemoteCertificateValidationCallback"/>.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            return Refuse($"the server {server} sent no TLS certificate");
        }

        var fingerprint = CertificateFingerprint.Compute(certificate);
        if (options.PinnedFingerprint is { } pinText)
        {
            if (!CertificateFingerprint.TryParse(pinText, out var pin))
            {
                return Refuse($"--pin '{pinText}' is not a SHA-256 fingerprint (64 hex digits)");
            }

            return CryptographicOperations.FixedTimeEquals(pin, fingerprint)
                || Refuse($"the TLS certificate of {server} does not match the pinned fingerprint: expected {CertificateFingerprint.Format(pin)}, got {CertificateFingerprint.Format(fingerprint)}; nothing was sent");
        }

        if (errors == SslPolicyErrors.None)
        {
            // Valid under the system's trust store, for this host name.
            return true;
        }

        if (options.KnownHostsFile is not { } file)
        {
            return Refuse($"the TLS certificate of {server} is not trusted ({Describe(errors)}) and there is no known hosts file; pass --pin {CertificateFingerprint.Format(fingerprint)} if that is the server's fingerprint");
        }

        (int Line, byte[] Fingerprint)? known;
        try
        {
            known = KnownHosts.Find(file, server);
        }
        catch (ServerCertificateException ex)
        {
            Failure = ex;
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Refuse($"cannot read the known hosts file {file}: {ex.Message}");
        }

        if (known is { } entry)
        {
            return CryptographicOperations.FixedTimeEquals(entry.Fingerprint, fingerprint)
                || Refuse(Changed(entry.Line, entry.Fingerprint, fingerprint, file));
        }

        if (!options.TrustOnFirstUse)
        {
            return Refuse($"the TLS certificate of {server} is not trusted ({Describe(errors)}) and {server} is not in {file}; pass --pin {CertificateFingerprint.Format(fingerprint)} if that is the server's fingerprint");
        }

        _newServer = fingerprint;
        return true;
    }

    /// <summary>After a successful handshake: records a server trusted on first use.</summary>
    /// <exception cref="ServerCertificateException">Another run recorded a different fingerprint meanwhile.</exception>
    public void RecordIfNew()
    {
        if (_newServer is not { } fingerprint || options.KnownHostsFile is not { } file)
        {
            return;
        }

        bool added;
        (int Line, byte[] Fingerprint)? existing;
        try
        {
            added = KnownHosts.TryRecord(file, server, fingerprint, out existing);
        }
        catch (Exception ex) when (ex is (IOException or UnauthorizedAccessException) and not ServerCertificateException)
        {
            throw new ServerCertificateException($"cannot record the new server {server} in {file}: {ex.Message}", ex);
        }

        if (added)
        {
            options.NewServerTrusted?.Invoke(new TrustedNewServer(server, CertificateFingerprint.Format(fingerprint), file));
        }
        else if (existing is { } entry && !CryptographicOperations.FixedTimeEquals(entry.Fingerprint, fingerprint))
        {
            throw new ServerCertificateException(Changed(entry.Line, entry.Fingerprint, fingerprint, file));
        }
    }

    private bool Refuse(string message)
    {
        Failure = new ServerCertificateException(message);
        return false;
    }

    private string Changed(int line, byte[] expected, byte[] actual, string file) =>
        $"""
        WARNING: the TLS certificate of {server} has CHANGED!
        Someone may be intercepting the connection (a man in the middle), or the server was given a new certificate.
        expected SHA-256 {CertificateFingerprint.Format(expected)}
        got      SHA-256 {CertificateFingerprint.Format(actual)}
        Nothing was sent to the server. If the change is expected, remove line {line} of {file}.
        """;

    private static string Describe(SslPolicyErrors errors) => errors switch
    {
        SslPolicyErrors.RemoteCertificateChainErrors => "not issued by a trusted authority",
        SslPolicyErrors.RemoteCertificateNameMismatch => "issued for another name",
        _ when errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors) => "not issued by a trusted authority, and for another name",
        _ => errors.ToString(),
    };
}
