using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// One upload into the object store. The body is cut into parts (<see cref="S3UploadParts"/>) sent as the parts of
/// a multipart upload to the partial's staging key under <c>.filexfer/partials/</c>, several at once, the last one
/// kept in memory. Nothing is visible under the real name until the commit, after the seal checked the whole-file
/// hash: a file of one part is then one PUT with its metadata; a larger one's multipart upload is completed into the
/// staging key and copied to the real name with its metadata (a copy inside the store that Ceph makes by reference,
/// on the condition that the source is the object these parts make: If-Match on its computed ETag; above
/// <see cref="S3StoreOptions.MaxCopySize"/>, a multipart copy), then the staging object is deleted. A failed, cut or refused upload completes nothing; what it staged is kept for a resume when it
/// had a resume key (any server can continue it: <see cref="S3Partials.FindHeldAsync"/>), else deleted.
/// </summary>
internal sealed class S3Upload : IUpload
{
    private readonly S3StoreSession _session;
    private readonly S3Store _store;
    private readonly string _key;
    private readonly long? _declaredSize;
    private readonly S3UploadParts _parts;
    private readonly CancellationTokenSource? _revoked;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _stagingKey;
    private int _heldParts;
    private string? _heldETag;
    private DateTimeOffset? _modified;
    private int? _mode;
    private string? _algorithm;
    private byte[]? _hash;
    private bool _sealed;
    private bool _committed;
    private bool _discard;
    private bool _disposed;

    private S3Upload(S3StoreSession session, string normalized, long? declaredSize, string id, bool resumable)
    {
        _session = session;
        _store = session.Store;
        Path = normalized;
        _key = session.KeyOf(normalized);
        _declaredSize = declaredSize;
        Id = id;
        IsResumable = resumable;
        _revoked = resumable ? new CancellationTokenSource() : null;
        _stagingKey = _store.Partials.ObjectKey(id);
        _parts = new S3UploadParts(_store, _stagingKey, PartSizeFor(declaredSize, _store.Options), declaredSize);
        Body = new S3UploadBody(_parts);
    }

    public static async Task<S3Upload> BeginAsync(S3StoreSession session, string normalized, long? declaredSize, byte[]? resumeKey, CancellationToken cancellationToken)
    {
        var store = session.Store;
        if (resumeKey is null || declaredSize is null)
        {
            return new S3Upload(session, normalized, declaredSize, S3Partials.RandomId(), resumable: false);
        }

        var id = S3Partials.IdOf(resumeKey, session.KeyOf(normalized));
        var upload = new S3Upload(session, normalized, declaredSize, id, resumable: true);
        if (!store.Holders.TryAdd(id, upload))
        {
            // Another connection of this server is still writing this partial: start apart from it.
            upload._released.TrySetResult();
            return new S3Upload(session, normalized, declaredSize, S3Partials.RandomId(), resumable: false);
        }

        try
        {
            // Only whole parts are staged, and never the last one: what is held is less than the file.
            int maxParts = (int)Math.Min(S3UploadParts.MaxParts - 1, (declaredSize.Value - 1) / upload._parts.PartSize);
            if (maxParts > 0)
            {
                (upload._heldParts, upload._heldETag) = await S3Errors.WrapAsync(normalized, () => store.Partials.FindHeldAsync(id, upload._parts.PartSize, maxParts, cancellationToken));
            }

            return upload;
        }
        catch
        {
            await upload.DisposeAsync();
            throw;
        }
    }

    /// <summary>The id its parts are staged under.</summary>
    public string Id { get; }

    public string Path { get; }

    public bool IsResumable { get; }

    public long HeldBytes => (long)_heldParts * _parts.PartSize;

    public CancellationToken Revoked => _revoked?.Token ?? CancellationToken.None;

    public Stream Body { get; }

    public long Size { get; private set; }

    // The object store sets no parent times (S3StoreSession.SetsParentTimes is false).
    public string? ParentTimeFailure => null;

    /// <summary>Set when the holder of this partial let go of it (it was disposed).</summary>
    public Task Released => _released.Task;

    public void Revoke()
    {
        try
        {
            _revoked?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It let go meanwhile: nothing to revoke.
        }
    }

    /// <summary>The part size for a file of <paramref name="declaredSize"/> bytes: 10,000 parts reach it; unknown sizes take twice the least.</summary>
    public static int PartSizeFor(long? declaredSize, S3StoreOptions options)
    {
        const int mebibyte = 1 << 20;
        long needed = declaredSize is { } size ? (size + S3UploadParts.MaxParts - 1) / S3UploadParts.MaxParts : 2L * options.MinPartSize;
        long rounded = (needed + mebibyte - 1) / mebibyte * mebibyte;
        return (int)Math.Min(Math.Max(rounded, options.MinPartSize), 1L << 30);
    }

    public async Task HashPrefixAsync(long count, ContentHasher hasher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        if (count == 0)
        {
            return;
        }

        var buffer = new byte[256 << 10];
        using var held = await S3Errors.WrapAsync(Path, () => _store.Client.GetObjectAsync(
            new GetObjectRequest { BucketName = _store.Bucket, Key = _stagingKey, ByteRange = new ByteRange(0, count - 1), EtagToMatch = _heldETag }, cancellationToken));
        long remaining = count;
        while (remaining > 0)
        {
            int read = await held.ResponseStream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken);
            if (read == 0)
            {
                throw new FileXferException(ErrorCode.Unavailable, $"the held part of '{RemotePath.Escape(Path)}' ended early");
            }

            hasher.Append(buffer.AsSpan(0, read));
            remaining -= read;
        }
    }

    public void ContinueAt(long offset)
    {
        if (offset != 0 && offset != HeldBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), "an upload continues at 0 or after its held bytes");
        }

        _parts.StartAfter(offset == 0 ? 0 : _heldParts, _heldETag);
    }

    public void Seal(long receivedLength, byte[] receivedHash, byte[] senderHash, DateTimeOffset? modified, int? mode, string algorithm, DateTimeOffset? parentModified = null)
    {
        ArgumentNullException.ThrowIfNull(receivedHash);
        ArgumentNullException.ThrowIfNull(senderHash);

        // Until the checks pass, the staged parts are suspect: a failed seal must not leave them for a resume.
        _discard = true;
        if (_parts.Failure is { } failure)
        {
            throw failure as FileXferException ?? S3Errors.Translate(Path, failure);
        }

        if (_declaredSize is { } declared && receivedLength != declared)
        {
            throw new FileXferException(ErrorCode.SizeMismatch, $"received {receivedLength} bytes, {declared} declared");
        }

        if (!CryptographicOperations.FixedTimeEquals(receivedHash, senderHash))
        {
            throw new FileXferException(ErrorCode.IntegrityMismatch, $"hash of the received bytes does not match the sender's for '{RemotePath.Escape(Path)}'");
        }

        if (_parts.Received != receivedLength)
        {
            throw new FileXferException(ErrorCode.SizeMismatch, $"stored {_parts.Received} bytes, {receivedLength} received");
        }

        _discard = false;
        (_modified, _mode, _algorithm, _hash, Size, _sealed) = (modified, mode, algorithm, receivedHash, receivedLength, true);
    }

    /// <summary>Makes the sealed upload the object under its name, with its metadata; then drops its staged parts.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (!_sealed)
        {
            throw new FileXferException(ErrorCode.Internal, $"the upload of '{RemotePath.Escape(Path)}' was not sealed");
        }

        var staged = await _parts.FinishSendingAsync();
        if (_parts.Failure is { } failure)
        {
            throw failure as FileXferException ?? S3Errors.Translate(Path, failure);
        }

        int slash = Path.LastIndexOf('/');
        if (slash > 0)
        {
            await _session.EnsureDirectoriesAsync(Path[..slash], cancellationToken);
        }

        if (await _session.Subdirectories.HasKeysBelowAsync(Path, _key, cancellationToken))
        {
            throw new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(Path)}' is a directory");
        }

        if (staged.Count == 0)
        {
            var put = new PutObjectRequest { BucketName = _store.Bucket, Key = _key, InputStream = _parts.LastPart(), UseChunkEncoding = false };
            WriteMetadata(put.Metadata);
            await S3Errors.WrapAsync(Path, () => _store.Client.PutObjectAsync(put, cancellationToken));
        }
        else
        {
            await CompleteMultipartAsync(staged, cancellationToken);
        }

        _committed = true;
        if (staged.Count > 0 || IsResumable)
        {
            await DeleteStagedAsync();
        }
    }

    private async Task CompleteMultipartAsync(IReadOnlyList<string> sent, CancellationToken cancellationToken)
    {
        var uploadId = await _parts.UploadId!;
        bool completed = false;
        try
        {
            var last = await _store.Client.UploadPartAsync(
                new UploadPartRequest { BucketName = _store.Bucket, Key = _stagingKey, UploadId = uploadId, PartNumber = sent.Count + 1, InputStream = _parts.LastPart(), IsLastPart = true, UseChunkEncoding = false },
                cancellationToken);
            var parts = sent.Select((etag, i) => new PartETag(i + 1, etag)).Append(new PartETag(sent.Count + 1, last.ETag)).ToList();
            await _store.Client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest { BucketName = _store.Bucket, Key = _stagingKey, UploadId = uploadId, PartETags = parts }, cancellationToken);
            completed = true;

            // Only the object these parts make gets the name and the verified hash: another server completing the same
            // partial meanwhile (a resume not fenced from this one) fails the copy instead of being published.
            if (Size > _store.Options.MaxCopySize)
            {
                await CopyInPartsAsync(MultipartETag(parts), cancellationToken);
                return;
            }

            var copy = new CopyObjectRequest
            {
                SourceBucket = _store.Bucket,
                SourceKey = _stagingKey,
                ETagToMatch = MultipartETag(parts),
                DestinationBucket = _store.Bucket,
                DestinationKey = _key,
                MetadataDirective = S3MetadataDirective.REPLACE,
            };
            WriteMetadata(copy.Metadata);
            await _store.Client.CopyObjectAsync(copy, cancellationToken);
        }
        catch (Exception ex) when (S3Errors.IsStorageFailure(ex) || ex is OperationCanceledException)
        {
            if (!completed)
            {
                await AbortQuietlyAsync(uploadId);
            }

            if (ex is AmazonS3Exception s3 && (S3Errors.IsPreconditionFailed(s3) || s3.ErrorCode is "InvalidPart" or "NoSuchUpload"))
            {
                throw new FileXferException(ErrorCode.IntegrityMismatch, $"the staged parts of '{RemotePath.Escape(Path)}' were changed by another upload of the same resume key; nothing was stored", ex);
            }

            throw ex is OperationCanceledException ? ex : S3Errors.Translate(Path, ex);
        }
    }

    /// <summary>
    /// Gives the staged object its name when it is larger than one CopyObject may copy (AWS: 5 GiB): a multipart upload
    /// at the name, its parts copied from the staged object (UploadPartCopy, each on the condition that the source is
    /// still <paramref name="sourceETag"/>), the metadata set when it starts; the name appears only when it completes.
    /// </summary>
    private async Task CopyInPartsAsync(string sourceETag, CancellationToken cancellationToken)
    {
        var start = new InitiateMultipartUploadRequest { BucketName = _store.Bucket, Key = _key };
        WriteMetadata(start.Metadata);
        var uploadId = (await _store.Client.InitiateMultipartUploadAsync(start, cancellationToken)).UploadId;
        try
        {
            long partSize = _store.Options.MaxCopySize;
            int count = (int)((Size + partSize - 1) / partSize);
            var etags = new string[count];
            await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = _store.Options.PartsInFlight, CancellationToken = cancellationToken }, async (i, token) =>
            {
                long first = i * partSize;
                var copied = await _store.Client.CopyPartAsync(
                    new CopyPartRequest
                    {
                        SourceBucket = _store.Bucket,
                        SourceKey = _stagingKey,
                        ETagToMatch = [sourceETag],
                        DestinationBucket = _store.Bucket,
                        DestinationKey = _key,
                        UploadId = uploadId,
                        PartNumber = i + 1,
                        FirstByte = first,
                        LastByte = Math.Min(first + partSize, Size) - 1,
                    },
                    token);
                etags[i] = copied.ETag;
            });
            await _store.Client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest { BucketName = _store.Bucket, Key = _key, UploadId = uploadId, PartETags = [.. etags.Select((etag, i) => new PartETag(i + 1, etag))] },
                cancellationToken);
        }
        catch (Exception ex) when (S3Errors.IsStorageFailure(ex) || ex is OperationCanceledException)
        {
            try
            {
                await _store.Client.AbortMultipartUploadAsync(_store.Bucket, _key, uploadId, CancellationToken.None);
            }
            catch (Exception abort) when (S3Errors.IsStorageFailure(abort))
            {
                // The stale sweep aborts it after the partial-age limit.
            }

            throw;
        }
    }

    /// <summary>A multipart object's ETag: the MD5 of its parts' MD5s, then a dash and the number of parts.</summary>
    private static string MultipartETag(List<PartETag> parts)
    {
        var digests = parts.SelectMany(p => Convert.FromHexString(p.ETag.Trim('"'))).ToArray();
#pragma warning disable CA5351 // Not for security: S3 defines a multipart ETag with MD5; the content is verified by the transfer's own hash.
        return $"\"{Convert.ToHexStringLower(MD5.HashData(digests))}-{parts.Count}\"";
#pragma warning restore CA5351
    }

    private async Task AbortQuietlyAsync(string uploadId)
    {
        try
        {
            await _store.Client.AbortMultipartUploadAsync(_store.Bucket, _stagingKey, uploadId, CancellationToken.None);
        }
        catch (Exception ex) when (S3Errors.IsStorageFailure(ex))
        {
            // The stale sweep aborts it after the partial-age limit (S3Store.RemoveStaleUploadsAsync).
        }
    }

    private void WriteMetadata(MetadataCollection metadata)
    {
        S3Metadata.Write(metadata, _modified, _mode);
        S3Metadata.WriteHash(metadata, _algorithm!, _hash!, Size);
    }

    private async Task DeleteStagedAsync()
    {
        try
        {
            await _store.Partials.DeleteAsync(Id, CancellationToken.None);
        }
        catch (Exception ex) when (S3Errors.IsStorageFailure(ex))
        {
            // Left for the stale sweep: nothing refers to them any more.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            await _parts.FinishSendingAsync();
            if (!_committed && (_parts.UploadId is not null || IsResumable) && (!IsResumable || _discard))
            {
                await DeleteStagedAsync();
            }
        }
        finally
        {
            _parts.Dispose();
            if (IsResumable)
            {
                _store.Holders.TryRemove(new KeyValuePair<string, S3Upload>(Id, this));
            }

            _released.TrySetResult();
            _revoked?.Dispose();
        }
    }
}
