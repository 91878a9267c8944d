using Amazon.S3.Model;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// An upload's body cut into parts of <paramref name="partSize"/> bytes, sent as the parts of a multipart upload
/// to the partial's staging key (<paramref name="stagingKey"/>, started at the first full part): a full part is
/// sent when the next byte arrives, at most <see cref="S3StoreOptions.PartsInFlight"/> at once, so memory stays at
/// that many parts plus the one being filled; the last part stays in memory for the commit. The part buffers are
/// the store's (<see cref="S3PartBuffers"/>), lent for one part and given back once it was sent. Each part goes as a
/// plain body whose SHA-256 the signature carries (not aws-chunked: one hash for the service to check instead of a
/// signature every 64 KiB). A resumed upload first copies its held parts inside the store from the staging object
/// that holds them. A failed request is remembered and the rest of the body dropped (the connection stays in step);
/// the seal reports it.
/// </summary>
internal sealed class S3UploadParts(S3Store store, string stagingKey, int partSize, long? declaredSize) : IDisposable
{
    /// <summary>The most parts of one object (S3's limit).</summary>
    public const int MaxParts = 10_000;

    private readonly SemaphoreSlim _slots = new(store.Options.PartsInFlight);
    private readonly List<Task> _inFlight = [];
    private readonly List<string?> _etags = [];
    private Task<string>? _uploadId;
    private byte[]? _current;
    private int _fill;
    private Exception? _failure;

    public int PartSize => partSize;

    /// <summary>The bytes of the body so far, held ones included.</summary>
    public long Received { get; private set; }

    /// <summary>The first failure of a part's request, or of the body (too large).</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>The multipart upload's id, once it was started.</summary>
    public Task<string>? UploadId => _uploadId;

    /// <summary>
    /// Continues after <paramref name="heldParts"/> whole parts held in the staging object (none: from the start):
    /// a new multipart upload, its first parts copied from that object (on the condition that it is still the one
    /// whose ETag is <paramref name="heldETag"/>, the one that was hashed) while the rest of the body arrives.
    /// </summary>
    public void StartAfter(int heldParts, string? heldETag)
    {
        _etags.Clear();
        Received = (long)heldParts * partSize;
        if (heldParts == 0)
        {
            return;
        }

        _uploadId = InitiateAsync();
        for (int number = 1; number <= heldParts; number++)
        {
            _etags.Add(null);
            Track(CopyHeldAsync(number, heldETag!));
        }
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
                    await SendFullPartAsync(cancellationToken);
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

    /// <summary>Waits for the parts' requests; returns the sent parts' ETags, in order (those before a failure).</summary>
    public async Task<IReadOnlyList<string>> FinishSendingAsync()
    {
        Task[] pending;
        lock (_etags)
        {
            pending = [.. _inFlight];
        }

        await Task.WhenAll(pending);
        lock (_etags)
        {
            return [.. _etags.TakeWhile(e => e is not null).Select(e => e!)];
        }
    }

    /// <summary>The last part, the one kept in memory (empty for an empty file).</summary>
    public Stream LastPart() => new MemoryStream(_current ?? [], 0, _fill, writable: false);

    /// <summary>Gives the last part's buffer back; call it once nothing reads <see cref="LastPart"/> any more.</summary>
    public void Dispose()
    {
        if (_current is { } last)
        {
            _current = null;
            _fill = 0;
            GiveBack(last);
        }

        _slots.Dispose();
    }

    private byte[] TakeBuffer() =>
        // A file that fits in a part is held at its size (a tree's small files), not a part's.
        declaredSize is { } size && size < partSize && _etags.Count == 0
            ? GC.AllocateUninitializedArray<byte>((int)Math.Max(size, 1))
            : store.PartBuffers.Rent(partSize);

    /// <summary>Gives a part's buffer back to the store's (a buffer of another length was this upload's own).</summary>
    private void GiveBack(byte[] buffer)
    {
        if (buffer.Length == partSize)
        {
            store.PartBuffers.Return(buffer);
        }
    }

    private async Task SendFullPartAsync(CancellationToken cancellationToken)
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
        _uploadId ??= InitiateAsync();
        Track(SendAsync(number, buffer));
    }

    private void Track(Task task)
    {
        lock (_etags)
        {
            _inFlight.RemoveAll(t => t.IsCompleted);
            _inFlight.Add(task);
        }
    }

    private async Task<string> InitiateAsync() =>
        (await store.Client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = store.Bucket, Key = stagingKey }, CancellationToken.None)).UploadId;

    private async Task SendAsync(int number, byte[] buffer)
    {
        try
        {
            // Not the connection's token: a part on its way is finished even when the connection is cut, for a resume.
            var response = await store.Client.UploadPartAsync(
                new UploadPartRequest { BucketName = store.Bucket, Key = stagingKey, UploadId = await _uploadId!, PartNumber = number, InputStream = new MemoryStream(buffer, 0, partSize, writable: false), UseChunkEncoding = false },
                CancellationToken.None);
            SetETag(number, response.ETag);
        }
        catch (Exception ex) when (S3Errors.IsStorageFailure(ex))
        {
            Fail(ex);
        }
        finally
        {
            GiveBack(buffer);
            _slots.Release();
        }
    }

    private async Task CopyHeldAsync(int number, string heldETag)
    {
        await _slots.WaitAsync(CancellationToken.None);
        try
        {
            var response = await store.Client.CopyPartAsync(
                new CopyPartRequest
                {
                    SourceBucket = store.Bucket,
                    SourceKey = stagingKey,
                    ETagToMatch = [heldETag],
                    FirstByte = (long)(number - 1) * partSize,
                    LastByte = ((long)number * partSize) - 1,
                    DestinationBucket = store.Bucket,
                    DestinationKey = stagingKey,
                    UploadId = await _uploadId!,
                    PartNumber = number,
                },
                CancellationToken.None);
            SetETag(number, response.ETag);
        }
        catch (Exception ex) when (S3Errors.IsStorageFailure(ex))
        {
            Fail(ex);
        }
        finally
        {
            _slots.Release();
        }
    }

    private void SetETag(int number, string etag)
    {
        lock (_etags)
        {
            _etags[number - 1] = etag;
        }
    }

    private void Fail(Exception exception) => Interlocked.CompareExchange(ref _failure, exception, null);
}
