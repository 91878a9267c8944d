using Amazon.S3.Model;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// An upload's body cut into parts of <paramref name="partSize"/> bytes: a full part is staged (a PUT of its own
/// object under the partial's id) when the next byte arrives, at most <see cref="S3StoreOptions.PartsInFlight"/> at
/// once, so memory stays at that many parts plus the one being filled; the last part stays in memory for the
/// commit. A failed request is remembered and the rest of the body dropped (the connection stays in step); the
/// seal reports it.
/// </summary>
internal sealed class S3UploadParts(S3Store store, string id, int partSize, long? declaredSize) : IDisposable
{
    /// <summary>The most parts of one object (S3's limit).</summary>
    public const int MaxParts = 10_000;

    private readonly SemaphoreSlim _slots = new(store.Options.PartsInFlight);
    private readonly List<Task> _inFlight = [];
    private readonly List<string?> _etags = [];
    private readonly Stack<byte[]> _free = new();
    private byte[]? _current;
    private int _fill;
    private Exception? _failure;

    public int PartSize => partSize;

    /// <summary>The bytes of the body so far, held ones included.</summary>
    public long Received { get; private set; }

    /// <summary>The first failure of a part's request, or of the body (too large).</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>Continues after the held parts (none: from the start).</summary>
    public void StartAfter(IReadOnlyList<string> held)
    {
        _etags.Clear();
        _etags.AddRange(held);
        Received = (long)held.Count * partSize;
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty && Failure is null)
        {
            if (Received + data.Length > store.Options.MaxFileSize)
            {
                Fail(new FileXferException(ErrorCode.TooLarge, $"the upload is larger than the server's limit of {store.Options.MaxFileSize} bytes"));
                return;
            }

            if (_current is not null && _fill == _current.Length)
            {
                if (_current.Length < partSize)
                {
                    // A body longer than it said: the seal refuses it, but it is taken in step until then.
                    var larger = GC.AllocateUninitializedArray<byte>(partSize);
                    _current.AsSpan(0, _fill).CopyTo(larger);
                    _current = larger;
                }
                else
                {
                    await StageAsync(cancellationToken);
                    continue;
                }
            }

            _current ??= TakeBuffer();
            int count = Math.Min(_current.Length - _fill, data.Length);
            data.Span[..count].CopyTo(_current.AsSpan(_fill));
            _fill += count;
            Received += count;
            data = data[count..];
        }
    }

    /// <summary>Waits for the staging requests; returns the staged parts' ETags, in order.</summary>
    public async Task<IReadOnlyList<string>> FinishStagingAsync()
    {
        Task[] pending;
        lock (_etags)
        {
            pending = [.. _inFlight];
        }

        await Task.WhenAll(pending);
        lock (_etags)
        {
            return Failure is null ? [.. _etags.Select(e => e!)] : [.. _etags.TakeWhile(e => e is not null).Select(e => e!)];
        }
    }

    /// <summary>The last part, the one kept in memory (empty for an empty file).</summary>
    public Stream LastPart() => new MemoryStream(_current ?? [], 0, _fill, writable: false);

    public void Dispose() => _slots.Dispose();

    private byte[] TakeBuffer()
    {
        lock (_free)
        {
            if (_free.Count > 0)
            {
                return _free.Pop();
            }
        }

        // A file that fits in a part is held at its size (a tree's small files), not a part's.
        return GC.AllocateUninitializedArray<byte>(declaredSize is { } size && size < partSize && _etags.Count == 0 ? (int)Math.Max(size, 1) : partSize);
    }

    private async Task StageAsync(CancellationToken cancellationToken)
    {
        int number;
        lock (_etags)
        {
            number = _etags.Count + 1;
            if (number >= MaxParts)
            {
                Fail(new FileXferException(ErrorCode.TooLarge, $"the upload needs more than {MaxParts} parts of {partSize} bytes"));
                return;
            }

            _etags.Add(null);
        }

        await _slots.WaitAsync(cancellationToken);
        var buffer = _current!;
        _current = null;
        _fill = 0;
        var staging = SendAsync(number, buffer);
        lock (_etags)
        {
            _inFlight.RemoveAll(t => t.IsCompleted);
            _inFlight.Add(staging);
        }
    }

    private async Task SendAsync(int number, byte[] buffer)
    {
        try
        {
            // Not the connection's token: a part on its way is finished even when the connection is cut, for a resume.
            var response = await store.Client.PutObjectAsync(
                new PutObjectRequest { BucketName = store.Bucket, Key = store.Partials.PartKey(id, partSize, number), InputStream = new MemoryStream(buffer, 0, partSize, writable: false) },
                CancellationToken.None);
            lock (_etags)
            {
                _etags[number - 1] = response.ETag;
            }
        }
        catch (Exception ex) when (S3Errors.IsStorageFailure(ex))
        {
            Fail(ex);
        }
        finally
        {
            lock (_free)
            {
                _free.Push(buffer);
            }

            _slots.Release();
        }
    }

    private void Fail(Exception exception) => Interlocked.CompareExchange(ref _failure, exception, null);
}
