using System.Text;
using FileXfer.Server.Handlers;
using FileXfer.Server.Security;

namespace FileXfer.Client.Tests;

/// <summary>A <see cref="TestServer"/> that requires a token, and token files for the client.</summary>
public static class AuthTestServer
{
    public const string WriterSecret = "Wr1ter-s3cret-NEVER-on-the-wire-0123";
    public const string ReaderSecret = "Re4der-s3cret-NEVER-on-the-wire-4567";

    /// <summary>A server with a read-write token <c>writer</c> and a read-only token <c>reader</c>; failures answered at once.</summary>
    /// <param name="tls">When given, the server also accepts only TLS, with this certificate.</param>
    public static TestServer Start(System.Security.Cryptography.X509Certificates.X509Certificate2? tls = null) =>
        new(root: null, options: null, tls, handlerOptions: new FileXferHandlerOptions
        {
            Authenticator = new TokenAuthenticator(
                [
                    new TokenEntry("writer", TokenAccess.ReadWrite, string.Empty, Encoding.UTF8.GetBytes(WriterSecret)),
                    new TokenEntry("reader", TokenAccess.ReadOnly, string.Empty, Encoding.UTF8.GetBytes(ReaderSecret)),
                ],
                new AuthThrottle(new AuthThrottleOptions { FailureDelay = TimeSpan.Zero, MaxFailureDelay = TimeSpan.Zero })),
        });

    /// <summary>Writes <c>NAME:SECRET</c> to a file of mode 600 (or <paramref name="mode"/>) in <paramref name="directory"/>.</summary>
    public static string WriteTokenFile(TempDirectory directory, string name, string secret, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var path = directory.Combine($"{name}.token");
        File.WriteAllText(path, $"# filexfer token\n{name}:{secret}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }

        return path;
    }
}
