namespace FileXfer.Client;

/// <summary>The server's hash of a stored file.</summary>
/// <param name="RemotePath">The normalized remote path.</param>
/// <param name="Size">The bytes hashed.</param>
/// <param name="HashAlgorithm">The algorithm.</param>
/// <param name="Hash">The hash value.</param>
public sealed record HashResult(string RemotePath, long Size, string HashAlgorithm, byte[] Hash)
{
    /// <summary>The hash as lowercase hex.</summary>
    public string HashHex => Convert.ToHexStringLower(Hash);
}
