using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Client.Local;

/// <summary>
/// The whole-file hash of a file received in ranges (a ranged get), kept running over the received prefix while the
/// ranges arrive, so that after the last range only what it had not yet reached is read back and hashed: the client's
/// twin of the follower of a ranged put on the server (<c>RangedFile</c>). A background pass reads back (from the page
/// cache) what the ranges wrote, from byte 0 up to the first byte not yet written, and waits there for more. A range
/// written again below where that pass has read (its bytes fetched again) makes it start over from byte 0, so the hash
/// is only ever of the bytes the file finally holds. Memory: one 1 MiB buffer while the pass runs, a count per range.
/// </summary>
internal sealed class ReceivedPrefixHasher : IAsyncDisposable
{
    private const int FollowBuffer = 1024 * 1024;

    // The pass is woken for at least this much (or a range's end): each wake costs a thread-pool hand-off.
    private const long WakeBytes = 256 * 1024;

    private readonly Lock _gate = new();
    private readonly SafeFileHandle _handle;
    private readonly IReadOnlyList<FileRange> _ranges;
    private readonly string _algorithm;
    private readonly long _size;

    // Bytes of each range written from its start that this transfer keeps (proven held ones, then received ones).
    private readonly long[] _written;
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

    /// <param name="handle">The file the ranges are written into, open for reading.</param>
    /// <param name="ranges">The file's ranges, in order and without gaps from byte 0 (<see cref="FileRange.Schedule"/>).</param>
    /// <param name="algorithm">The whole-file hash's algorithm.</param>
    public ReceivedPrefixHasher(SafeFileHandle handle, IReadOnlyList<FileRange> ranges, string algorithm)
    {
        _handle = handle;
        _ranges = ranges;
        _algorithm = algorithm;
        _size = ranges.Count == 0 ? 0 : ranges[^1].End;
        _written = new long[ranges.Count];
        _hasher = HashAlgorithms.Create(algorithm);
    }

    /// <summary>The bytes the hash had still to read when <see cref="FinishAsync"/> was called: what the ranges' arrival left to it.</summary>
    public long RemainingAtFinish { get; private set; } = -1;

    /// <summary>How many times the pass started over from byte 0 because bytes it had read were written again.</summary>
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

    /// <summary>Range <paramref name="index"/> holds <paramref name="count"/> more bytes after those it held (written, and kept).</summary>
    public void Wrote(int index, long count)
    {
        lock (_gate)
        {
            _written[index] = Math.Min(_written[index] + count, _ranges[index].Length);
            FollowLocked(force: false);
        }
    }

    /// <summary>
    /// Range <paramref name="index"/> keeps only its first <paramref name="held"/> bytes: the rest is written again. When
    /// the pass has read past that point, it starts over from byte 0.
    /// </summary>
    public void Rewind(int index, long held)
    {
        lock (_gate)
        {
            if (held < _written[index] && _ranges[index].Offset + held < _reading)
            {
                _generation++;
            }

            _written[index] = Math.Min(_written[index], held);
        }
    }

    /// <summary>
    /// The hash of the whole file, once every range holds all its bytes: the pass finishes what it has not yet read
    /// (<see cref="RemainingAtFinish"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">A range lacks bytes.</exception>
    /// <exception cref="IOException">Reading the file back failed.</exception>
    public async Task<byte[]> FinishAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (ReadableEndLocked(0) != _size)
            {
                throw new InvalidOperationException("the received file is hashed before every range was received");
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
                    throw new IOException($"reading back the received ranges failed: {failure.Message}", failure);
                }

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

        await follower;
        _hasher.Dispose();
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
        if ((end > from && (force || end - from >= WakeBytes || end == _size || IsRangeEnd(end))) || _hashedGeneration != _generation)
        {
            _following = true;
            _follower = Task.Run(FollowAsync);
        }
    }

    private bool IsRangeEnd(long offset)
    {
        foreach (var range in _ranges)
        {
            if (range.End == offset)
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
        for (int i = 0; i < _ranges.Count; i++)
        {
            var range = _ranges[i];
            if (range.End <= end)
            {
                continue;
            }

            if (range.Offset > end)
            {
                break;
            }

            end = Math.Max(end, range.Offset + _written[i]);
            if (_written[i] < range.Length)
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
                    throw new IOException($"the received file ended at {from + read}, before the {from + count} bytes its ranges wrote");
                }

                // Only this task touches the hasher's state; a range written again during the read shows as a new generation.
                _hasher.Append(buffer.AsSpan(0, read));
                lock (_gate)
                {
                    if (generation == _generation)
                    {
                        _frontier += read;
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
}
