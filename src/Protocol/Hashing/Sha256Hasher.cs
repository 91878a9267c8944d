using System.Security.Cryptography;

namespace FileXfer.Protocol.Hashing;

/// <summary>
/// SHA-256, the default algorithm (<c>sha256</c>). The first small inputs of a process (each up to 64 KiB, 256 KiB
/// in all) are hashed in managed code (<see cref="ManagedSha256"/>), so a short-lived process that moves a few
/// small files never loads OpenSSL (about 5 ms); anything larger, and everything once that budget is spent, goes to
/// the platform's SHA-256 (OpenSSL, with the CPU's SHA instructions, several times faster).
/// </summary>
public sealed class Sha256Hasher : ContentHasher
{
    /// <summary>The most bytes hashed in managed code.</summary>
    public const int ManagedLimit = 64 * 1024;

    // The bytes a process may hash in managed code in all: past it, loading OpenSSL has paid for itself.
    private const long ManagedBudget = 256 * 1024;

    private static long s_managedBytes;

    private IncrementalHash? _hash;
    private byte[]? _pending;
    private int _pendingLength;

    /// <inheritdoc />
    public override string Name => HashAlgorithms.Sha256;

    /// <inheritdoc />
    public override int HashSizeInBytes => 32;

    /// <inheritdoc />
    public override void Append(ReadOnlySpan<byte> data)
    {
        if (_hash is not null)
        {
            _hash.AppendData(data);
            return;
        }

        int needed = _pendingLength + data.Length;
        if (needed <= ManagedLimit && Volatile.Read(ref s_managedBytes) + needed <= ManagedBudget)
        {
            if (_pending is null || _pending.Length < needed)
            {
                var larger = new byte[Math.Min(ManagedLimit, Math.Max(needed, Math.Max(4096, (_pending?.Length ?? 0) * 2)))];
                _pending.AsSpan(0, _pendingLength).CopyTo(larger);
                _pending = larger;
            }

            data.CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength = needed;
            return;
        }

        // Large: from here on the platform's SHA-256, fed what was gathered first.
        _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        _hash.AppendData(_pending.AsSpan(0, _pendingLength));
        _hash.AppendData(data);
        _pending = null;
        _pendingLength = 0;
    }

    /// <inheritdoc />
    public override byte[] GetHashAndReset()
    {
        if (_hash is not null)
        {
            return _hash.GetHashAndReset();
        }

        var hash = ManagedSha256.Hash(_pending.AsSpan(0, _pendingLength));
        Interlocked.Add(ref s_managedBytes, _pendingLength);
        _pendingLength = 0;
        return hash;
    }

    /// <inheritdoc />
    public override byte[] GetCurrentHash() => _hash?.GetCurrentHash() ?? ManagedSha256.Hash(_pending.AsSpan(0, _pendingLength));

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash?.Dispose();
        }

        base.Dispose(disposing);
    }
}
