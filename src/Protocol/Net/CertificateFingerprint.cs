using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FileXfer.Protocol.Net;

/// <summary>
/// The SHA-256 fingerprint of a TLS certificate (the hash of its DER encoding), as the server prints it and the
/// client pins and records it: 32 bytes written as colon-separated uppercase hex, <c>AB:CD:…</c>, the form
/// <c>openssl x509 -fingerprint -sha256</c> prints.
/// </summary>
public static class CertificateFingerprint
{
    /// <summary>The number of bytes of a fingerprint.</summary>
    public const int Length = 32;

    /// <summary>The SHA-256 of the certificate's DER encoding.</summary>
    public static byte[] Compute(X509Certificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return SHA256.HashData(certificate.GetRawCertData());
    }

    /// <summary>Formats a fingerprint as colon-separated uppercase hex.</summary>
    public static string Format(ReadOnlySpan<byte> fingerprint) => string.Join(':', Convert.ToHexString(fingerprint).Chunk(2).Select(pair => new string(pair)));

    /// <summary>
    /// Parses 64 hex digits, with or without colons between the bytes, in either case, optionally prefixed with
    /// <c>sha256:</c> or <c>SHA256:</c>.
    /// </summary>
    public static bool TryParse(string? text, out byte[] fingerprint)
    {
        fingerprint = [];
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var hex = text.Trim();
        if (hex.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase))
        {
            hex = hex["sha256:".Length..];
        }

        hex = hex.Replace(":", string.Empty, StringComparison.Ordinal);
        if (hex.Length != Length * 2 || !hex.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        fingerprint = Convert.FromHexString(hex);
        return true;
    }
}
