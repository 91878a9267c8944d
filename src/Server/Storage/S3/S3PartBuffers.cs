namespace FileXfer.Server.Storage.S3;

/// <summary>
/// The part buffers of all the store's uploads: a buffer a sent part gave back is lent to the next part of any upload,
/// so the server's memory holds the parts on their way, not every part an upload ever held. Without it each upload
/// allocated its own parts of 8 MiB, which stayed on the large-object heap until a full collection: a server's peak
/// RSS grew with the uploads it had served (198 MiB after a few 1 GiB puts with four parts in flight). At most
/// <paramref name="maxIdleBytes"/> of buffers wait unused; more given back are left to the collector.
/// </summary>
internal sealed class S3PartBuffers(long maxIdleBytes)
{
    private readonly List<byte[]> _idle = [];
    private long _idleBytes;

    /// <summary>How many buffers were allocated since the store started (the lent ones included).</summary>
    public int Allocated { get; private set; }

    /// <summary>The bytes of the buffers waiting to be lent.</summary>
    public long IdleBytes
    {
        get
        {
            lock (_idle)
            {
                return _idleBytes;
            }
        }
    }

    /// <summary>A buffer of exactly <paramref name="length"/> bytes, an idle one when there is one; its content is undefined.</summary>
    public byte[] Rent(int length)
    {
        lock (_idle)
        {
            int index = _idle.FindLastIndex(b => b.Length == length);
            if (index >= 0)
            {
                var buffer = _idle[index];
                _idle.RemoveAt(index);
                _idleBytes -= length;
                return buffer;
            }

            Allocated++;
        }

        return GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>Gives back a buffer <see cref="Rent"/> lent; nothing may use it afterwards.</summary>
    public void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        lock (_idle)
        {
            if (_idleBytes + buffer.Length <= maxIdleBytes)
            {
                _idle.Add(buffer);
                _idleBytes += buffer.Length;
            }
        }
    }
}
