namespace FileXfer.Server.Security;

/// <summary>One client's entry in the tokens file.</summary>
/// <param name="Name">The token's name, <c>[A-Za-z0-9._-]{1,64}</c>.</param>
/// <param name="Access">What the token may do.</param>
/// <param name="Subtree">The normalized remote path that acts as the client's root; empty for the whole root.</param>
/// <param name="Secret">The UTF-8 bytes of the secret, the HMAC key of the challenge-response.</param>
public sealed record TokenEntry(string Name, TokenAccess Access, string Subtree, byte[] Secret)
{
    /// <summary>Never prints the secret.</summary>
    public override string ToString() => $"{Name} {(Access == TokenAccess.ReadOnly ? "ro" : "rw")}{(Subtree.Length > 0 ? ":/" + Subtree : string.Empty)}";
}
