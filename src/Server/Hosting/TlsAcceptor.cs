using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace FileXfer.Server.Hosting;

/// <summary>
/// Puts TLS under a connection before anything else is read from it. A peer whose first byte is not a TLS
/// handshake record is left in plaintext and reported as such, so the handler can tell a client that forgot
/// <c>--tls</c> what is wrong instead of failing on garbage.
/// </summary>
internal static class TlsAcceptor
{
    // The content type of a TLS handshake record (RFC 8446, 5.1); a ClientHello always starts with it. A FileXfer
    // client in plaintext starts with the magic "FXFR" instead.
    private const byte HandshakeRecord = 0x16;

    /// <summary>
    /// Given the peer's first byte (<see cref="FirstByte.PeekAsync"/>, not consumed): when it opens a TLS handshake
    /// record, a TLS handshake is completed over <paramref name="transport"/> and the encrypted stream returned; any
    /// other first byte returns null and leaves <paramref name="transport"/> as it was.
    /// </summary>
    /// <exception cref="AuthenticationException">The TLS handshake failed.</exception>
    public static async Task<SslStream?> AcceptAsync(byte first, Stream transport, SslStreamCertificateContext certificate, CancellationToken cancellationToken)
    {
        if (first != HandshakeRecord)
        {
            return null;
        }

        var tls = new SslStream(transport, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = certificate,
                    // TLS 1.3 when the client has it; 1.2 for older clients. Never anything older.
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ClientCertificateRequired = false,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    AllowRenegotiation = false,
                },
                cancellationToken);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }
}
