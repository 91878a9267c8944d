namespace FileXfer.Client;

/// <summary>
/// The ranges of one file in ranges (<see cref="FileRange.Schedule"/>), handed out in order to the connections that
/// carry them: each takes the next one when it finished its last, so a connection that the link treats worse takes
/// fewer, and none is left holding a large share of the file at the end. Safe for any number of takers.
/// </summary>
internal sealed class RangeQueue(IReadOnlyList<FileRange> ranges)
{
    private int _next = -1;

    /// <summary>All the ranges, in order.</summary>
    public IReadOnlyList<FileRange> Ranges => ranges;

    /// <summary>The next range not yet taken, with its index, or false when every range was taken.</summary>
    public bool TryTake(out int index, out FileRange range)
    {
        index = Interlocked.Increment(ref _next);
        if (index >= ranges.Count)
        {
            range = default;
            return false;
        }

        range = ranges[index];
        return true;
    }
}
