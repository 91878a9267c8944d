using System.Security.Cryptography;
using System.Text;

namespace FileXfer.Protocol.Security;

/// <summary>
/// The challenge-response of token authentication, one implementation for both sides. Each side proves it
/// knows the token's secret with an HMAC-SHA256 keyed by the secret over both nonces and the token name; the
/// secret itself never crosses the wire. The two proofs differ by a label, so one cannot be replayed as the other.
/// A nonce is <see cref="ProtocolLimits.AuthBytes"/> random bytes, which each side draws from the platform's
/// <c>SecureRandom</c> (getrandom(2): every connection needs one, and loading OpenSSL for it would cost a short command
/// milliseconds).
/// </summary>
public static class AuthProof
{
    /// <summary>The label of the client's proof: <c>FXFR-AUTH-1 client</c>.</summary>
    public static ReadOnlySpan<byte> ClientLabel => "FXFR-AUTH-1 client"u8;

    /// <summary>The label of the server's proof: <c>FXFR-AUTH-1 server</c>.</summary>
    public static ReadOnlySpan<byte> ServerLabel => "FXFR-AUTH-1 server"u8;

    /// <summary>HMAC-SHA256(secret, "FXFR-AUTH-1 client" || clientNonce || serverNonce || UTF-8 name).</summary>
    public static byte[] ForClient(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce, string name) =>
        Compute(secret, ClientLabel, clientNonce, serverNonce, name);

    /// <summary>HMAC-SHA256(secret, "FXFR-AUTH-1 server" || clientNonce || serverNonce || UTF-8 name).</summary>
    public static byte[] ForServer(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce, string name) =>
        Compute(secret, ServerLabel, clientNonce, serverNonce, name);

    /// <summary>The label of a later connection's proof over its run's ticket: <c>FXFR-AUTH-2 run client</c>.</summary>
    public static ReadOnlySpan<byte> RunClientLabel => "FXFR-AUTH-2 run client"u8;

    /// <summary>The label of the server's answer to a proof over a run's ticket: <c>FXFR-AUTH-2 run server</c>.</summary>
    public static ReadOnlySpan<byte> RunServerLabel => "FXFR-AUTH-2 run server"u8;

    /// <summary>
    /// The proof a later connection of a run sends in its Hello (early authentication):
    /// HMAC-SHA256(secret, "FXFR-AUTH-2 run client" || clientNonce || ticket || runId || u32 big-endian number || UTF-8 name),
    /// where <paramref name="ticket"/> is the ServerNonce of the connection whose Ok made it the run's ticket.
    /// </summary>
    public static byte[] ForRunClient(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> ticket, ReadOnlySpan<byte> runId, uint number, string name) =>
        ComputeRun(secret, RunClientLabel, clientNonce, ticket, runId, number, name);

    /// <summary>The server's proof in the Welcome of an early authentication: the same bytes under "FXFR-AUTH-2 run server".</summary>
    public static byte[] ForRunServer(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> ticket, ReadOnlySpan<byte> runId, uint number, string name) =>
        ComputeRun(secret, RunServerLabel, clientNonce, ticket, runId, number, name);

    /// <summary>Compares a received proof with the expected one in constant time (no timing oracle on the prefix).</summary>
    public static bool Matches(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> received) =>
        CryptographicOperations.FixedTimeEquals(expected, received);

    private static byte[] ComputeRun(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> label, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> ticket, ReadOnlySpan<byte> runId, uint number, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> packed = stackalloc byte[sizeof(uint)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(packed, number);
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        hmac.AppendData(label);
        hmac.AppendData(clientNonce);
        hmac.AppendData(ticket);
        hmac.AppendData(runId);
        hmac.AppendData(packed);
        hmac.AppendData(Encoding.UTF8.GetBytes(name));
        return hmac.GetHashAndReset();
    }

    private static byte[] Compute(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> label, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        hmac.AppendData(label);
        hmac.AppendData(clientNonce);
        hmac.AppendData(serverNonce);
        hmac.AppendData(Encoding.UTF8.GetBytes(name));
        return hmac.GetHashAndReset();
    }
}
