using System.Collections.Concurrent;

namespace FileXfer.Client;

/// <summary>
/// The ranges of one file in ranges (<see cref="FileRange.Schedule"/>), handed out in order to the connections that
/// carry them: each takes the next one when it finished its last, so a connection that the link treats worse takes
/// fewer, and none is left holding a large share of the file at the end. A range whose bytes arrived corrupted may be
/// given back once, to be taken again before the others. Safe for any number of takers.
/// </summary>
internal sealed class RangeQueue
{
    private readonly IReadOnlyList<FileRange> _ranges;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<int> _givenBack = new();
    private readonly int[] _returned;
    private int _next = -1;

    public RangeQueue(IReadOnlyList<FileRange> ranges)
    {
        _ranges = ranges;
        _returned = new int[ranges.Count];
    }

    /// <summary>All the ranges, in order.</summary>
    public IReadOnlyList<FileRange> Ranges => _ranges;

    /// <summary>
    /// Completes once every range was taken: a connection still being opened then has nothing left to carry
    /// (<see cref="ExtraConnections.ConnectUnlessDrainedAsync"/>).
    /// </summary>
    public Task Drained => _drained.Task;

    /// <summary>The next range not yet taken (a range given back first), with its index, or false when every range was taken.</summary>
    public bool TryTake(out int index, out FileRange range)
    {
        if (_givenBack.TryDequeue(out index))
        {
            range = _ranges[index];
            return true;
        }

        index = Interlocked.Increment(ref _next);
        if (index >= _ranges.Count - 1)
        {
            _drained.TrySetResult();
        }

        if (index >= _ranges.Count)
        {
            range = default;
            return false;
        }

        range = _ranges[index];
        return true;
    }

    /// <summary>
    /// Gives range <paramref name="index"/> back, to be taken again from its first byte; false when it was given back
    /// before (a range corrupted twice says more than a bit flipped in flight: the attempt fails instead).
    /// </summary>
    public bool TryGiveBack(int index)
    {
        if (Interlocked.Exchange(ref _returned[index], 1) == 1)
        {
            return false;
        }

        _givenBack.Enqueue(index);
        return true;
    }

    /// <summary>True when range <paramref name="index"/> was given back: whatever it held is not offered again.</summary>
    public bool WasGivenBack(int index) => Volatile.Read(ref _returned[index]) == 1;
}
