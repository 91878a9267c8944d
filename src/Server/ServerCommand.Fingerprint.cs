using System.CommandLine;
using System.Net;
using FileXfer.Protocol.Net;
using FileXfer.Server.Tls;

namespace FileXfer.Server;

/// <summary>
/// The <c>fingerprint</c> subcommand, and what it shares with the server: the certificate loaded (or made) and its
/// fingerprint line.
/// </summary>
internal static partial class ServerCommand
{
    /// <summary>
    /// <c>filexfer-server fingerprint --root DIR</c>: prints the fingerprint of the certificate the server would use,
    /// generating the self-signed one if it does not exist yet, without starting, for operators to hand to clients.
    /// </summary>
    private static Command CreateFingerprintCommand(TextWriter stdout, TextWriter stderr)
    {
        var root = new Option<DirectoryInfo>("--root")
        {
            Description = "The server's root directory.",
            Required = true,
        };
        var tlsCert = new Option<FileInfo?>("--tls-cert") { Description = "The certificate the server is given, as for the server." };
        var tlsKey = new Option<FileInfo?>("--tls-key") { Description = "Its private key, when not in the same file." };
        var command = new Command("fingerprint", "Print the SHA-256 fingerprint of the server's TLS certificate (generating the self-signed one if there is none yet) and exit.")
        {
            root, tlsCert, tlsKey,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var directory = result.GetValue(root)!;
            if (!directory.Exists)
            {
                await stderr.WriteLineAsync($"filexfer-server: cannot use root '{directory.FullName}': it does not exist");
                return (int)ServerExitCode.Usage;
            }

            try
            {
                var certificate = LoadCertificate(directory.FullName, result.GetValue(tlsCert), result.GetValue(tlsKey), listenAddress: null);
                await stdout.WriteLineAsync(FingerprintLine(certificate));
                return (int)ServerExitCode.Ok;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
            {
                await stderr.WriteLineAsync($"filexfer-server: cannot use the TLS certificate: {ex.Message}");
                return (int)ServerExitCode.Usage;
            }
        });
        return command;
    }

    private static ServerCertificate LoadCertificate(string root, FileInfo? certificate, FileInfo? key, IPAddress? listenAddress) =>
        certificate is not null
            ? ServerCertificate.Load(certificate.FullName, key?.FullName)
            : ServerCertificate.LoadOrCreate(root, listenAddress);

    private static string FingerprintLine(ServerCertificate certificate) =>
        $"TLS certificate SHA-256 fingerprint: {CertificateFingerprint.Format(certificate.Fingerprint)}";
}
