using System.Buffers;
using FileXfer.Protocol.Hashing;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Protocol.Ranges;

/// <summary>
/// The whole-file hash of a file whose ranges are written concurrently (over several connections: the server's ranged
/// put, the client's ranged get), kept running over the prefix written without a gap, so that once the last range is
/// in only what it had not yet reached is read back and hashed. A background pass reads back (from the page cache)
/// what the ranges wrote, from byte 0 up to the first byte not yet written, and waits there for more. A range written
/// again below where that pass has read (<see cref="WrittenRange.Rewind"/>: its bytes sent or fetched again) makes it
/// start over from byte 0, so the hash is only ever of the bytes the file finally holds. Memory: one pooled 1 MiB
/// buffer while the pass runs, a count per range; nothing per write.
/// </summary>
public sealed class WrittenPrefixHasher : IAsyncDisposable
{
    private const int FollowBuffer = 1024 * 1024;

    private readonly Lock _gate = new();
    private readonly SafeFileHandle _handle;
    private readonly string _algorithm;
    private readonly long _size;
    private readonly long _wakeBytes;

    // In file order, none overlapping another.
    private readonly List<WrittenRange> _ranges = [];
    private ContentHasher _hasher;

    // The hash covers [0, _frontier); a read in flight ends at _reading. A range written again below _reading bumps
    // _generation, and the pass starts over when it sees a generation it has not hashed.
    private long _frontier;
    private long _reading;
    private int _generation;
    private int _hashedGeneration;
    private bool _following;
    private bool _stopped;
    private Task _follower = Task.CompletedTask;
    private Exception? _failure;
    private readonly List<(long Offset, TaskCompletionSource Reached)> _waiters = [];

    /// <param name="handle">The file the ranges are written into, open for reading; the caller closes it after <see cref="DisposeAsync"/>.</param>
    /// <param name="size">The whole file's size.</param>
    /// <param name="algorithm">The whole-file hash's algorithm (<see cref="HashAlgorithms"/>).</param>
    /// <param name="wakeBytes">
    /// The pass is woken for at least this many new bytes (or a range's end, or the file's): each wake costs a
    /// thread-pool hand-off. 0 wakes it for any.
    /// </param>
    public WrittenPrefixHasher(SafeFileHandle handle, long size, string algorithm, long wakeBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfNegative(wakeBytes);
        _handle = handle;
        _size = size;
        _algorithm = algorithm;
        _wakeBytes = wakeBytes;
        _hasher = HashAlgorithms.Create(algorithm);
    }

    /// <summary>The bytes the hash had still to read when <see cref="FinishAsync"/> was called: what the ranges' arrival left to it.</summary>
    public long RemainingAtFinish { get; private set; } = -1;

    /// <summary>How many times the pass started over (or will) from byte 0 because bytes it had read were written again.</summary>
    public int Restarts
    {
        get
        {
            lock (_gate)
            {
                return _generation;
            }
        }
    }

    /// <summary>True while the background pass runs (for tests).</summary>
    internal bool Following
    {
        get
        {
            lock (_gate)
            {
                return _following;
            }
        }
    }

    /// <summary>A range of the file, none of whose bytes is in another; it holds nothing yet.</summary>
    /// <exception cref="ArgumentException">The range is empty, ends past the file, or overlaps one added before.</exception>
    public WrittenRange Add(FileRange range)
    {
        if (!range.FitsIn(_size))
        {
            throw new ArgumentException($"range {range} is not within a file of {_size} bytes", nameof(range));
        }

        lock (_gate)
        {
            if (_ranges.Find(r => r.Range.Overlaps(range)) is { } other)
            {
                throw new ArgumentException($"range {range} overlaps range {other.Range}", nameof(range));
            }

            var added = new WrittenRange(this, range);
            int at = _ranges.FindIndex(r => r.Range.Offset > range.Offset);
            _ranges.Insert(at < 0 ? _ranges.Count : at, added);
            return added;
        }
    }

    /// <summary>Completes once the hash covers the file's first <paramref name="offset"/> bytes (in their latest version).</summary>
    public Task HashedThroughAsync(long offset)
    {
        lock (_gate)
        {
            if (_frontier >= offset && _hashedGeneration == _generation)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((offset, reached));
            return reached.Task;
        }
    }

    /// <summary>
    /// The hash of the whole file, once its ranges hold all its bytes: the pass finishes what it has not yet read
    /// (<see cref="RemainingAtFinish"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">A byte of the file is in no range, or not yet written.</exception>
    /// <exception cref="IOException">Reading the file back failed (the cause is its inner exception).</exception>
    /// <exception cref="ObjectDisposedException">The hasher was disposed before the hash was finished.</exception>
    public async Task<byte[]> FinishAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (ReadableEndLocked(0) != _size)
            {
                throw new InvalidOperationException("the file is hashed before every range was written");
            }

            RemainingAtFinish = _hashedGeneration == _generation ? _size - _frontier : _size;
        }

        while (true)
        {
            Task follower;
            lock (_gate)
            {
                if (_failure is { } failure)
                {
                    throw new IOException($"reading back the ranges written failed: {failure.Message}", failure);
                }

                ObjectDisposedException.ThrowIf(_stopped, this);
                if (!_following && _frontier == _size && _hashedGeneration == _generation)
                {
                    return _hasher.GetHashAndReset();
                }

                FollowLocked(force: true);
                follower = _follower;
            }

            await follower.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Stops the pass and waits for it: the file may be closed after this.</summary>
    public async ValueTask DisposeAsync()
    {
        Task follower;
        lock (_gate)
        {
            _stopped = true;
            follower = _follower;
        }

        // The pass stops at its next step; wait for it so it does not read a closed handle. What failed it,
        // FinishAsync reported (or nobody asked for the hash).
        await follower.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _hasher.Dispose();
    }

    internal long WrittenOf(WrittenRange range)
    {
        lock (_gate)
        {
            return range.WrittenLocked;
        }
    }

    internal void Wrote(WrittenRange range, long count)
    {
        lock (_gate)
        {
            range.WrittenLocked = Math.Min(range.WrittenLocked + count, range.Range.Length);
            FollowLocked(force: false);
        }
    }

    internal void Rewind(WrittenRange range, long held)
    {
        lock (_gate)
        {
            if (held < range.WrittenLocked && range.Range.Offset + held < _reading)
            {
                _generation++;
            }

            range.WrittenLocked = Math.Min(range.WrittenLocked, held);
        }
    }

    /// <summary>Lets the pass go on when there is enough to hash (anything, when <paramref name="force"/>). Under the gate.</summary>
    private void FollowLocked(bool force)
    {
        if (_following || _stopped || _failure is not null)
        {
            return;
        }

        long from = _hashedGeneration == _generation ? _frontier : 0;
        long end = ReadableEndLocked(from);
        if ((end > from && (force || end - from >= _wakeBytes || end == _size || IsRangeEndLocked(end))) || _hashedGeneration != _generation)
        {
            _following = true;
            _follower = Task.Run(FollowAsync);
        }
    }

    private bool IsRangeEndLocked(long offset)
    {
        foreach (var range in _ranges)
        {
            if (range.Range.End == offset)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The end of the bytes written without a gap from <paramref name="from"/>. Under the gate.</summary>
    private long ReadableEndLocked(long from)
    {
        long end = from;
        foreach (var range in _ranges)
        {
            if (range.Range.End <= end)
            {
                continue;
            }

            if (range.Range.Offset > end)
            {
                break;
            }

            end = Math.Max(end, range.Range.Offset + range.WrittenLocked);
            if (range.WrittenLocked < range.Range.Length)
            {
                break;
            }
        }

        return end;
    }

    private async Task FollowAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(FollowBuffer);
        try
        {
            while (true)
            {
                long from;
                int count;
                int generation;
                lock (_gate)
                {
                    if (_hashedGeneration != _generation)
                    {
                        _hasher.Dispose();
                        _hasher = HashAlgorithms.Create(_algorithm);
                        _frontier = _reading = 0;
                        _hashedGeneration = _generation;
                    }

                    long end = ReadableEndLocked(_frontier);
                    if (end <= _frontier || _stopped)
                    {
                        _following = false;
                        return;
                    }

                    from = _frontier;
                    count = (int)Math.Min(buffer.Length, end - from);
                    _reading = from + count;
                    generation = _generation;
                }

                int read = await RandomAccess.ReadAsync(_handle, buffer.AsMemory(0, count), from);
                if (read != count)
                {
                    throw new IOException($"the file ended at {from + read}, before the {from + count} bytes its ranges wrote");
                }

                // Only this task touches the hasher's state; a range written again during the read shows as a new generation.
                _hasher.Append(buffer.AsSpan(0, read));
                lock (_gate)
                {
                    if (generation == _generation)
                    {
                        _frontier += read;
                        ReleaseWaitersLocked();
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or UnauthorizedAccessException)
        {
            lock (_gate)
            {
                _failure = ex;
                _following = false;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Completes the waiters the frontier reached. Under the gate.</summary>
    private void ReleaseWaitersLocked()
    {
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Offset <= _frontier)
            {
                _waiters[i].Reached.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }
}
