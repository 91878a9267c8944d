namespace FileXfer.Server.Hosting;

/// <summary>
/// Lets a burst of log lines through per interval and counts the rest, so the next line that goes through can say
/// how many were left out. Thread-safe.
/// </summary>
internal sealed class LogRateLimiter(int burst, TimeSpan interval, TimeProvider timeProvider)
{
    private readonly Lock _lock = new();
    private long _windowStart = long.MinValue;
    private int _inWindow;
    private int _suppressed;

    /// <summary>True when a line may be written now; <paramref name="suppressed"/> is how many were left out since the last one.</summary>
    public bool TryAcquire(out int suppressed)
    {
        lock (_lock)
        {
            long now = timeProvider.GetTimestamp();
            if (_windowStart == long.MinValue || timeProvider.GetElapsedTime(_windowStart, now) >= interval)
            {
                _windowStart = now;
                _inWindow = 0;
            }

            if (_inWindow < burst)
            {
                _inWindow++;
                suppressed = _suppressed;
                _suppressed = 0;
                return true;
            }

            _suppressed++;
            suppressed = 0;
            return false;
        }
    }
}
