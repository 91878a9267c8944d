using System.Buffers;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// One ranged upload (<see cref="IRangedUploads"/>): the one partial file its ranges are written into, in place, the
/// ranges it holds and how much of each, and the whole-file hash kept running over the assembled prefix so that
/// little is left to hash when the last range is in. The hash follows the data: a background pass reads back (from
/// the page cache) what the ranges wrote, from the start of the file up to the first byte not yet written, and waits
/// there for more. A range that is rewritten below where that pass has read (a resume from 0, a range that failed its
/// check) makes it start over from the file's start, so the hash is only ever of the bytes the file finally holds;
/// the whole-file hash the client sends is checked against it in any case.
/// </summary>
internal sealed class RangedFile : IAsyncDisposable
{
    private const int FollowBuffer = 1024 * 1024;

    private readonly object _gate = new();
    private readonly List<RangeSlot> _ranges = [];
    private readonly InlineFileStream _file;
    private readonly Action _releaseTemp;
    private readonly TimeProvider _timeProvider;
    private ContentHasher _hasher;

    // The whole-file hash covers [0, _frontier); a read in flight ends at _reading. A rewrite below _reading bumps
    // _generation, and the follower starts over when it sees a generation it has not hashed.
    private long _frontier;
    private long _reading;
    private int _generation;
    private int _hashedGeneration;
    private bool _following;
    private Task _follower = Task.CompletedTask;
    private Exception? _followFailure;
    private bool _assembling;
    private bool _handedOver;

    public RangedFile(string key, string normalized, long size, string algorithm, InlineFileStream file, string tempPath, Action releaseTemp, TimeProvider timeProvider)
    {
        Key = key;
        Path = normalized;
        Size = size;
        Algorithm = algorithm;
        _file = file;
        TempPath = tempPath;
        _releaseTemp = releaseTemp;
        _timeProvider = timeProvider;
        _hasher = HashAlgorithms.Create(algorithm);
        LastUsed = timeProvider.GetUtcNow();
    }

    /// <summary>The registry's name for the upload.</summary>
    public string Key { get; }

    /// <summary>The normalized remote path.</summary>
    public string Path { get; }

    /// <summary>The whole file's size.</summary>
    public long Size { get; }

    /// <summary>The hash algorithm of the ranges and the whole file.</summary>
    public string Algorithm { get; }

    /// <summary>The partial file in the staging area.</summary>
    public string TempPath { get; }

    /// <summary>When a range last started or wrote, for the sweep of uploads their client gave up on.</summary>
    public DateTimeOffset LastUsed { get; private set; }

    /// <summary>The partial file's handle, for positional reads and writes.</summary>
    public SafeFileHandle Handle => _file.Handle;

    /// <summary>True once <see cref="FinishAsync"/> found every range in: the upload takes no more ranges.</summary>
    public bool Assembling
    {
        get
        {
            lock (_gate)
            {
                return _assembling;
            }
        }
    }

    /// <summary>True while a connection holds one of the ranges.</summary>
    public bool InUse
    {
        get
        {
            lock (_gate)
            {
                return _assembling || _ranges.Exists(r => r.Holder is not null);
            }
        }
    }

    /// <summary>
    /// The slot of <paramref name="range"/>: the existing one when the upload already has exactly that range, else a new
    /// one, provided it overlaps none of the others.
    /// </summary>
    /// <exception cref="FileXferException">BadRequest: the range overlaps another, or the upload is being assembled.</exception>
    public RangeSlot Slot(FileRange range)
    {
        lock (_gate)
        {
            if (_assembling)
            {
                throw new FileXferException(ErrorCode.BadRequest, $"the ranged upload of '{RemotePath.Escape(Path)}' is being assembled; it takes no more ranges");
            }

            LastUsed = _timeProvider.GetUtcNow();
            if (_ranges.Find(r => r.Range == range) is { } existing)
            {
                return existing;
            }

            if (_ranges.Find(r => r.Range.Overlaps(range)) is { } other)
            {
                throw new FileXferException(ErrorCode.BadRequest, $"range {range} overlaps range {other.Range} of the same upload of '{RemotePath.Escape(Path)}'");
            }

            var slot = new RangeSlot(range);
            int at = _ranges.FindIndex(r => r.Range.Offset > range.Offset);
            _ranges.Insert(at < 0 ? _ranges.Count : at, slot);
            return slot;
        }
    }

    /// <summary>Bytes of <paramref name="slot"/> were written after its held ones.</summary>
    public void Wrote(RangeSlot slot, long count)
    {
        lock (_gate)
        {
            slot.Written += count;
            LastUsed = _timeProvider.GetUtcNow();
            FollowLocked();
        }
    }

    /// <summary>The range keeps only its first <paramref name="held"/> bytes (and is no longer verified).</summary>
    public void Rewind(RangeSlot slot, long held)
    {
        lock (_gate)
        {
            if (held < slot.Written && slot.Range.Offset + held < _reading)
            {
                _generation++;
            }

            slot.Written = Math.Min(slot.Written, held);
            slot.Verified = false;
        }
    }

    /// <summary>The range was received whole and its hash checked.</summary>
    public void Verified(RangeSlot slot)
    {
        lock (_gate)
        {
            slot.Verified = slot.Written == slot.Range.Length;
            FollowLocked();
        }
    }

    /// <summary>Takes the slot for one connection, or returns the holder it must be taken over from.</summary>
    public ResumeClaim? TryHold(RangeSlot slot, ResumeClaim claim)
    {
        lock (_gate)
        {
            if (slot.Holder is { } holder)
            {
                return holder;
            }

            slot.Holder = claim;
            return null;
        }
    }

    /// <summary>The connection holding the slot lets go of it.</summary>
    public void Release(RangeSlot slot, ResumeClaim claim)
    {
        lock (_gate)
        {
            if (slot.Holder == claim)
            {
                slot.Holder = null;
            }
        }

        claim.Release();
    }

    /// <summary>
    /// Closes the upload to new ranges, checks that verified ranges cover the whole file, and finishes the whole-file
    /// hash. Returns the hash; the partial file is then the caller's (<see cref="HandOver"/>).
    /// </summary>
    /// <exception cref="FileXferException">BadRequest: a byte of the file is in no verified range, or a range is still held.</exception>
    public async Task<byte[]> FinishAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            long covered = 0;
            foreach (var slot in _ranges)
            {
                if (slot.Range.Offset != covered || !slot.Verified)
                {
                    break;
                }

                covered = slot.Range.End;
            }

            if (covered != Size)
            {
                throw new FileXferException(ErrorCode.BadRequest, $"the ranged upload of '{RemotePath.Escape(Path)}' lacks its bytes from {covered} on; every range must be answered Ok before Assemble");
            }

            if (_ranges.Exists(r => r.Holder is not null))
            {
                throw new FileXferException(ErrorCode.BadRequest, $"a range of '{RemotePath.Escape(Path)}' is still being sent");
            }

            _assembling = true;
        }

        while (true)
        {
            Task follower;
            lock (_gate)
            {
                if (_followFailure is { } failure)
                {
                    throw new FileXferException(ErrorCode.Internal, $"reading back the ranges of '{RemotePath.Escape(Path)}' failed: {failure.Message}", failure);
                }

                if (!_following && _frontier == Size && _hashedGeneration == _generation)
                {
                    return _hasher.GetHashAndReset();
                }

                FollowLocked();
                follower = _follower;
            }

            await follower.WaitAsync(cancellationToken);
        }
    }

    /// <summary>The partial file, for the upload that commits it; this no longer closes nor deletes it.</summary>
    public (InlineFileStream File, Action Release) HandOver()
    {
        lock (_gate)
        {
            _handedOver = true;
            return (_file, _releaseTemp);
        }
    }

    /// <summary>
    /// Lets the follower go on when there is something to hash. Under the gate.
    /// </summary>
    private void FollowLocked()
    {
        if (!_following && _followFailure is null && (ReadableEndLocked() > _frontier || _hashedGeneration != _generation))
        {
            _following = true;
            _follower = Task.Run(FollowAsync);
        }
    }

    /// <summary>The end of the bytes written without a gap from the frontier. Under the gate.</summary>
    private long ReadableEndLocked()
    {
        long end = _frontier;
        foreach (var slot in _ranges)
        {
            if (slot.Range.End <= end)
            {
                continue;
            }

            if (slot.Range.Offset > end)
            {
                break;
            }

            end = Math.Max(end, slot.Range.Offset + slot.Written);
            if (slot.Written < slot.Range.Length)
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
                        _hasher = HashAlgorithms.Create(Algorithm);
                        _frontier = _reading = 0;
                        _hashedGeneration = _generation;
                    }

                    long end = ReadableEndLocked();
                    if (end <= _frontier || _handedOver)
                    {
                        _following = false;
                        return;
                    }

                    from = _frontier;
                    count = (int)Math.Min(buffer.Length, end - from);
                    _reading = from + count;
                    generation = _generation;
                }

                int read = await RandomAccess.ReadAsync(_file.Handle, buffer.AsMemory(0, count), from);
                if (read != count)
                {
                    throw new IOException($"the partial file ended at {from + read}, before the {from + count} bytes its ranges wrote");
                }

                // Only this task touches the hasher's state; a rewrite during the read shows as a new generation.
                _hasher.Append(buffer.AsSpan(0, read));
                lock (_gate)
                {
                    if (generation == _generation)
                    {
                        _frontier += read;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or UnauthorizedAccessException)
        {
            lock (_gate)
            {
                _followFailure = ex;
                _following = false;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Task follower;
        bool handedOver;
        lock (_gate)
        {
            handedOver = _handedOver;
            _handedOver = true;
            follower = _follower;
        }

        // The follower stops at its next step; wait for it so it does not read a closed handle.
        await follower.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _hasher.Dispose();
        if (handedOver)
        {
            return;
        }

        await _file.DisposeAsync();
        try
        {
            File.Delete(TempPath);
        }
        catch (IOException)
        {
            // Left for the sweep at the next start; the real name was never touched.
        }
        finally
        {
            _releaseTemp();
        }
    }
}

/// <summary>One range of a <see cref="RangedFile"/>: how much of it is written, whether it checked out, who sends it now.</summary>
internal sealed class RangeSlot(FileRange range)
{
    public FileRange Range { get; } = range;

    /// <summary>Bytes written from the range's start. Under the file's gate.</summary>
    public long Written { get; set; }

    /// <summary>True once the whole range was received and its hash matched. Under the file's gate.</summary>
    public bool Verified { get; set; }

    /// <summary>The connection sending it now, if any. Under the file's gate.</summary>
    public ResumeClaim? Holder { get; set; }
}
