namespace FileXfer.Protocol.Hashing;

/// <summary>An incremental whole-file hash, named as it is on the wire.</summary>
public abstract class ContentHasher : IDisposable
{
    /// <summary>The algorithm's wire name, such as <c>sha256</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The size of the finished hash in bytes.</summary>
    public abstract int HashSizeInBytes { get; }

    /// <summary>Adds bytes to the hash.</summary>
    public abstract void Append(ReadOnlySpan<byte> data);

    /// <summary>Finishes the hash, returns it, and starts over for new input.</summary>
    public abstract byte[] GetHashAndReset();

    /// <summary>The hash of the bytes appended so far; more can still be appended.</summary>
    public abstract byte[] GetCurrentHash();

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the underlying hash state.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
