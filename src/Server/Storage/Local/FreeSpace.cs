namespace FileXfer.Server.Storage.Local;

/// <summary>
/// The free space an upload needs, checked before it starts: a statfs at most once a second, or whenever the file
/// is a large share of what was free, so many small files cost nothing.
/// </summary>
internal sealed class FreeSpace(string root, long reserveBytes, TimeProvider timeProvider)
{
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);
    private long _availableBytes;
    private long _availableCheckedAt;
    private int _probed;

    /// <summary>Refuses an upload of <paramref name="size"/> bytes that would not fit, beside the reserve.</summary>
    /// <exception cref="FileXferException">InsufficientStorage.</exception>
    public void Ensure(long size)
    {
        // statfs once a second, or whenever the file is a large share of what was free: cheap for many small files.
        long now = timeProvider.GetTimestamp();
        long available = Interlocked.Read(ref _availableBytes);
        if (Volatile.Read(ref _probed) == 0 || timeProvider.GetElapsedTime(Interlocked.Read(ref _availableCheckedAt), now) > ProbeInterval || size > available / 8)
        {
            try
            {
                available = new DriveInfo(root).AvailableFreeSpace;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // The free-space probe is a courtesy; the write itself still fails cleanly on a full disk.
                return;
            }

            Interlocked.Exchange(ref _availableBytes, available);
            Interlocked.Exchange(ref _availableCheckedAt, now);
            Volatile.Write(ref _probed, 1);
        }

        if (size > available - reserveBytes)
        {
            throw new FileXferException(ErrorCode.InsufficientStorage, $"not enough space on the server: {size} bytes needed, {Math.Max(0, available - reserveBytes)} available");
        }
    }
}
