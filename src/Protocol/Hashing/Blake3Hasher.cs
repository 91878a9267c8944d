namespace FileXfer.Protocol.Hashing;

/// <summary>
/// BLAKE3 (<c>blake3</c>, 256-bit output): a cryptographic hash about twice as fast as SHA-256 on one core here,
/// for users who want tamper-evident verification at a lower CPU cost.
/// </summary>
public sealed class Blake3Hasher : ContentHasher
{
    private readonly Blake3.Hasher _hash = Blake3.Hasher.New();

    /// <inheritdoc />
    public override string Name => HashAlgorithms.Blake3;

    /// <inheritdoc />
    public override int HashSizeInBytes => 32;

    /// <inheritdoc />
    public override void Append(ReadOnlySpan<byte> data) => _hash.Update(data);

    /// <inheritdoc />
    public override byte[] GetHashAndReset()
    {
        var result = _hash.Finalize().AsSpan().ToArray();
        _hash.Reset();
        return result;
    }

    /// <inheritdoc />
    public override byte[] GetCurrentHash() => _hash.Finalize().AsSpan().ToArray();

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
