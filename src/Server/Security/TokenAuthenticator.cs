using System.Collections.Frozen;
using System.Security.Cryptography;
using FileXfer.Protocol.Security;

namespace FileXfer.Server.Security;

/// <summary>
/// Checks a client's proof against the tokens the server was given. An unknown name is checked against a
/// random dummy secret all the same, and proofs are compared in constant time, so the answer time tells
/// nothing about names or proofs.
/// </summary>
public sealed class TokenAuthenticator
{
    // Replaced whole on a reload (SIGHUP): a check reads one set, never a mix of the old and the new.
    private volatile FrozenDictionary<string, TokenEntry> _tokens;
    private readonly byte[] _dummySecret = RandomNumberGenerator.GetBytes(32);

    public TokenAuthenticator(IEnumerable<TokenEntry> tokens, AuthThrottle throttle)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = tokens.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
        Throttle = throttle ?? throw new ArgumentNullException(nameof(throttle));
        Tickets = new RunTickets(throttle.Options.TimeProvider);
    }

    /// <summary>The runs' tickets of early authentication, on the throttle's clock.</summary>
    public RunTickets Tickets { get; }

    /// <summary>The per-address limits on failed attempts.</summary>
    public AuthThrottle Throttle { get; }

    /// <summary>The number of tokens known.</summary>
    public int Count => _tokens.Count;

    /// <summary>
    /// Puts <paramref name="tokens"/> in place of the tokens known, for the authentications that follow; connections
    /// already authenticated keep the access they were given.
    /// </summary>
    public void Replace(IEnumerable<TokenEntry> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = tokens.ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>
    /// The token named <paramref name="name"/> when <paramref name="proof"/> is its client proof over these nonces,
    /// else null (unknown name and wrong proof are not told apart).
    /// </summary>
    public TokenEntry? Verify(string name, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce, ReadOnlySpan<byte> proof)
    {
        ArgumentNullException.ThrowIfNull(name);
        var tokens = _tokens;
        bool known = tokens.TryGetValue(name, out var entry);
        var expected = AuthProof.ForClient(known ? entry!.Secret : _dummySecret, clientNonce, serverNonce, name);
        bool matches = AuthProof.Matches(expected, proof);
        return known && matches ? entry : null;
    }

    /// <summary>
    /// The token named <paramref name="name"/> when <paramref name="proof"/> is its proof over a run's ticket (early
    /// authentication, <see cref="AuthProof.ForRunClient"/>), else null; compared in constant time like <see cref="Verify"/>.
    /// </summary>
    public TokenEntry? VerifyRun(string name, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> ticket, ReadOnlySpan<byte> runId, uint number, ReadOnlySpan<byte> proof)
    {
        ArgumentNullException.ThrowIfNull(name);
        var tokens = _tokens;
        bool known = tokens.TryGetValue(name, out var entry);
        var expected = AuthProof.ForRunClient(known ? entry!.Secret : _dummySecret, clientNonce, ticket, runId, number, name);
        bool matches = AuthProof.Matches(expected, proof);
        return known && matches ? entry : null;
    }
}
