using System.Security.Cryptography;

namespace FileXfer.Protocol.Hashing;

/// <summary>
/// SHA-256, the default algorithm (<c>sha256</c>): the platform's (OpenSSL on Linux, with the CPU's SHA instructions),
/// fed incrementally through <see cref="IncrementalHash"/>.
/// </summary>
public sealed class Sha256Hasher : ContentHasher
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <inheritdoc />
    public override string Name => HashAlgorithms.Sha256;

    /// <inheritdoc />
    public override int HashSizeInBytes => 32;

    /// <inheritdoc />
    public override void Append(ReadOnlySpan<byte> data) => _hash.AppendData(data);

    /// <inheritdoc />
    public override byte[] GetHashAndReset() => _hash.GetHashAndReset();

    /// <inheritdoc />
    public override byte[] GetCurrentHash() => _hash.GetCurrentHash();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
