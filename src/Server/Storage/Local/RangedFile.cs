using FileXfer.Protocol.Ranges;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// One ranged upload (<see cref="IRangedUploads"/>): the one partial file its ranges are written into, in place, the
/// ranges it holds (whether each checked out, which connection sends it), and the whole-file hash kept running over the
/// assembled prefix (<see cref="WrittenPrefixHasher"/>) so that little is left to hash when the last range is in. A
/// range that is rewritten below where that hash has read (a resume from 0, a range that failed its check) makes it
/// start over from the file's start, so the hash is only ever of the bytes the file finally holds; the whole-file hash
/// the client sends is checked against it in any case.
/// </summary>
internal sealed class RangedFile : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly List<RangeSlot> _ranges = [];
    private readonly InlineFileStream _file;
    private readonly Action _releaseTemp;
    private readonly TimeProvider _timeProvider;
    private readonly WrittenPrefixHasher _prefix;
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
        _prefix = new WrittenPrefixHasher(file.Handle, size, algorithm);
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

            var slot = new RangeSlot(_prefix.Add(range));
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
            LastUsed = _timeProvider.GetUtcNow();
        }

        slot.Part.Wrote(count);
    }

    /// <summary>The range keeps only its first <paramref name="held"/> bytes (and is no longer verified).</summary>
    public void Rewind(RangeSlot slot, long held)
    {
        lock (_gate)
        {
            slot.Verified = false;
        }

        slot.Part.Rewind(held);
    }

    /// <summary>The range was received whole and its hash checked.</summary>
    public void Verified(RangeSlot slot)
    {
        lock (_gate)
        {
            slot.Verified = slot.Part.Written == slot.Range.Length;
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

        try
        {
            return await _prefix.FinishAsync(cancellationToken);
        }
        catch (IOException ex) when (ex.InnerException is { } failure)
        {
            throw new FileXferException(ErrorCode.Internal, $"reading back the ranges of '{RemotePath.Escape(Path)}' failed: {failure.Message}", failure);
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

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        bool handedOver;
        lock (_gate)
        {
            handedOver = _handedOver;
            _handedOver = true;
        }

        // The hash's pass stops at its next step and is waited for, so it does not read a closed handle.
        await _prefix.DisposeAsync();
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
internal sealed class RangeSlot(WrittenRange part)
{
    public FileRange Range => Part.Range;

    /// <summary>The range as the whole-file hash follows it: how much of it is written.</summary>
    public WrittenRange Part { get; } = part;

    /// <summary>True once the whole range was received and its hash matched. Under the file's gate.</summary>
    public bool Verified { get; set; }

    /// <summary>The connection sending it now, if any. Under the file's gate.</summary>
    public ResumeClaim? Holder { get; set; }
}
