using System.IO.Hashing;

namespace FileXfer.Protocol.Hashing;

/// <summary>
/// XXH128 (<c>xxh128</c>): a fast non-cryptographic hash that catches transmission and storage errors
/// but not deliberate tampering.
/// </summary>
public sealed class XxHash128Hasher : ContentHasher
{
    private readonly XxHash128 _hash = new();

    /// <inheritdoc />
    public override string Name => HashAlgorithms.XxHash128;

    /// <inheritdoc />
    public override int HashSizeInBytes => 16;

    /// <inheritdoc />
    public override void Append(ReadOnlySpan<byte> data) => _hash.Append(data);

    /// <inheritdoc />
    public override byte[] GetHashAndReset() => _hash.GetHashAndReset();

    /// <inheritdoc />
    public override byte[] GetCurrentHash() => _hash.GetCurrentHash();
}
