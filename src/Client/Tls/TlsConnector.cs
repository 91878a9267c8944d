using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using FileXfer.Protocol.Net;

namespace FileXfer.Client.Tls;

/// <summary>Puts TLS under a new connection, before the FileXfer handshake, and verifies the server.</summary>
internal static class TlsConnector
{
    /// <summary>The TLS handshake over <paramref name="transport"/>; on success, the encrypted stream.</summary>
    /// <exception cref="ServerCertificateException">The server's certificate is not trusted.</exception>
    /// <exception cref="ConnectionFailedException">The server did not complete a TLS handshake (it may not speak TLS).</exception>
    public static async Task<SslStream> ConnectAsync(Stream transport, HostPort server, ClientTlsOptions options, CancellationToken cancellationToken)
    {
        var verifier = new ServerCertificateVerifier(server.ToString(), options);
        var tls = new SslStream(transport, leaveInnerStreamOpen: false, verifier.Validate);
        try
        {
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = server.Host,
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    AllowRenegotiation = false,
                },
                cancellationToken);
            verifier.RecordIfNew();
            return tls;
        }
        catch (AuthenticationException ex) when (verifier.Failure is { } failure)
        {
            await tls.DisposeAsync();
            throw new ServerCertificateException(failure.Message, ex);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException and not ServerCertificateException)
        {
            // Whatever answered is not a TLS server (a plaintext FileXfer server answers the ClientHello with an error
            // frame and closes). The connection is given up: a client that asked for TLS never falls back.
            await tls.DisposeAsync();
            throw new ConnectionFailedException(
                $"cannot connect to {server}: the server did not answer TLS (is it started with --tls?)",
                ex as AuthenticationException ?? new AuthenticationException(ex.Message, ex));
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }
}
