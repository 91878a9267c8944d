using System.Text;

namespace FileXfer.Client;

/// <summary>
/// A token to authenticate with: its name and secret. The secret is only ever used as the key of the
/// challenge-response (see <see cref="Protocol.Security.AuthProof"/>); it is never sent, and never printed.
/// </summary>
public sealed class FileXferCredential
{
    public FileXferCredential(string name, string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        if (Encoding.UTF8.GetByteCount(name) > ProtocolLimits.MaxTokenNameBytes)
        {
            throw new ArgumentException($"a token name has at most {ProtocolLimits.MaxTokenNameBytes} bytes", nameof(name));
        }

        Name = name;
        Secret = Encoding.UTF8.GetBytes(secret);
    }

    /// <summary>The token's name, sent to the server.</summary>
    public string Name { get; }

    /// <summary>The UTF-8 bytes of the secret, the key of the proofs.</summary>
    internal byte[] Secret { get; }

    /// <summary>Reads <c>NAME:SECRET</c>, the form of <c>--token-file</c> and <c>FILEXFER_TOKEN</c>.</summary>
    public static bool TryParse(string text, out FileXferCredential? credential, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        credential = null;
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
        {
            error = "a token is written NAME:SECRET";
            return false;
        }

        if (colon > ProtocolLimits.MaxTokenNameBytes || text.AsSpan(0, colon).ContainsAny(" \t\r\n") || text.AsSpan(colon + 1).ContainsAny(" \t\r\n"))
        {
            error = "a token is written NAME:SECRET, without spaces";
            return false;
        }

        credential = new FileXferCredential(text[..colon], text[(colon + 1)..]);
        error = null;
        return true;
    }

    /// <summary>The name only: the secret never appears in logs or messages.</summary>
    public override string ToString() => Name;
}
