using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3.Model;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// The partial uploads, kept in the bucket under <c>.filexfer/partials/ID/object</c>: a multipart upload to that
/// key holds the parts sent so far (ListParts tells which, with their ETags); a resumed upload completes the held
/// parts into that key, which makes them an object any server can read to hash the held prefix again. ID comes
/// from the client's resume key and the object's key; an upload without a resume key stages under a random ID and
/// removes what it staged when it ends.
/// </summary>
internal sealed class S3Partials(S3Store store)
{
    private string Prefix => store.Location.Prefix + S3Store.ReservedName + "/partials/";

    public static string IdOf(byte[] resumeKey, string key)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var input = new byte[resumeKey.Length + 1 + keyBytes.Length];
        resumeKey.CopyTo(input, 0);
        keyBytes.CopyTo(input, resumeKey.Length + 1);
        return Convert.ToHexStringLower(SHA256.HashData(input));
    }

    public static string RandomId() => "u" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The staging key of partial <paramref name="id"/>.</summary>
    public string ObjectKey(string id) => $"{Prefix}{id}/object";

    /// <summary>
    /// The whole parts of <paramref name="partSize"/> bytes held for <paramref name="id"/> (at most
    /// <paramref name="maxParts"/>) as a readable staging object, and its ETag: the multipart upload that holds the
    /// most parts (1, 2, … without a gap, each whole) is completed into the staging key when it holds more than the
    /// staging object already does; the other multipart uploads of the key are aborted.
    /// </summary>
    public async Task<(int Parts, string? ETag)> FindHeldAsync(string id, int partSize, int maxParts, CancellationToken cancellationToken)
    {
        var key = ObjectKey(id);
        var existing = await HeadAsync(key, cancellationToken);
        long existingParts = existing is { } head && head.ContentLength % partSize == 0 ? head.ContentLength / partSize : 0;
        var uploads = (await store.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = store.Bucket, Prefix = key }, cancellationToken)).MultipartUploads ?? [];
        (string UploadId, List<PartETag> Parts)? best = null;
        foreach (var upload in uploads.Where(u => u.Key == key))
        {
            var parts = await ListWholePartsAsync(key, upload.UploadId, partSize, maxParts, cancellationToken);
            if (parts.Count > existingParts && parts.Count > (best?.Parts.Count ?? 0))
            {
                best = (upload.UploadId, parts);
            }
        }

        foreach (var upload in uploads.Where(u => u.Key == key && u.UploadId != best?.UploadId))
        {
            await store.Client.AbortMultipartUploadAsync(store.Bucket, key, upload.UploadId, cancellationToken);
        }

        if (best is { } chosen)
        {
            await store.Client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest { BucketName = store.Bucket, Key = key, UploadId = chosen.UploadId, PartETags = chosen.Parts }, cancellationToken);

            // Ceph answers the completion without its ETag; HEAD has it.
            existing = await HeadAsync(key, cancellationToken);
            return existing is null ? (0, null) : ((int)Math.Min(existing.ContentLength / partSize, maxParts), existing.ETag);
        }

        return existingParts > 0 ? ((int)Math.Min(existingParts, maxParts), existing!.ETag) : (0, null);
    }

    private async Task<List<PartETag>> ListWholePartsAsync(string key, string uploadId, int partSize, int maxParts, CancellationToken cancellationToken)
    {
        var parts = new List<PartETag>();
        string? marker = null;
        do
        {
            var page = await store.Client.ListPartsAsync(new ListPartsRequest { BucketName = store.Bucket, Key = key, UploadId = uploadId, PartNumberMarker = marker }, cancellationToken);
            foreach (var part in page.Parts ?? [])
            {
                if (parts.Count == maxParts || part.PartNumber != parts.Count + 1 || part.Size != partSize)
                {
                    return parts;
                }

                parts.Add(new PartETag(part.PartNumber ?? 0, part.ETag));
            }

            marker = page.IsTruncated == true ? page.NextPartNumberMarker?.ToString(CultureInfo.InvariantCulture) : null;
        }
        while (marker is not null);
        return parts;
    }

    private async Task<GetObjectMetadataResponse?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await store.Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = store.Bucket, Key = key }, cancellationToken);
        }
        catch (Amazon.S3.AmazonS3Exception ex) when (S3Errors.IsNotFound(ex))
        {
            return null;
        }
    }

    /// <summary>Deletes everything staged under <paramref name="id"/>: its multipart uploads and its staging object.</summary>
    public async Task DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var prefix = $"{Prefix}{id}/";
        var uploads = await store.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = store.Bucket, Prefix = prefix }, cancellationToken);
        foreach (var upload in uploads.MultipartUploads ?? [])
        {
            await store.Client.AbortMultipartUploadAsync(store.Bucket, upload.Key, upload.UploadId, cancellationToken);
        }

        string? token = null;
        do
        {
            var page = await store.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = store.Bucket, Prefix = prefix, ContinuationToken = token }, cancellationToken);
            await DeleteKeysAsync([.. (page.S3Objects ?? []).Select(o => o.Key)], cancellationToken);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
    }

    /// <summary>Revokes the upload of this process holding <paramref name="id"/>, and waits until it let go.</summary>
    public async Task TakeOverAsync(string id, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (!store.Holders.TryGetValue(id, out var holder))
        {
            return;
        }

        holder.Revoke();
        try
        {
            await holder.Released.WaitAsync(wait, timeProvider, cancellationToken);
        }
        catch (TimeoutException)
        {
            // The holder is stuck in a request to the store: this upload starts without its partial (not resumable).
        }
    }

    /// <summary>
    /// Deletes the partials whose newest part is older than the age limit (except those an upload of this process
    /// holds), and aborts the multipart uploads under the store's prefix started before it.
    /// </summary>
    public async Task<int> RemoveStaleAsync(CancellationToken cancellationToken)
    {
        var limit = store.Options.TimeProvider.GetUtcNow() - store.Options.PartialMaxAge;
        int removed = 0;
        string? currentId = null;
        var keys = new List<string>();
        DateTimeOffset newest = DateTimeOffset.MinValue;

        async Task FinishAsync()
        {
            if (currentId is not null && newest < limit && !store.Holders.ContainsKey(currentId))
            {
                await DeleteKeysAsync(keys, cancellationToken);
                removed++;
            }

            keys.Clear();
            newest = DateTimeOffset.MinValue;
        }

        string? token = null;
        do
        {
            var page = await store.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = store.Bucket, Prefix = Prefix, ContinuationToken = token }, cancellationToken);
            foreach (var part in page.S3Objects ?? [])
            {
                var rest = part.Key[Prefix.Length..];
                var id = rest[..Math.Max(0, rest.IndexOf('/', StringComparison.Ordinal))];
                if (id != currentId)
                {
                    await FinishAsync();
                    currentId = id;
                }

                keys.Add(part.Key);
                var modified = S3StoreSession.ToOffset(part.LastModified);
                newest = modified > newest ? modified : newest;
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        await FinishAsync();

        string? keyMarker = null;
        string? uploadMarker = null;
        do
        {
            var page = await store.Client.ListMultipartUploadsAsync(
                new ListMultipartUploadsRequest { BucketName = store.Bucket, Prefix = store.Location.Prefix, KeyMarker = keyMarker, UploadIdMarker = uploadMarker }, cancellationToken);
            foreach (var upload in page.MultipartUploads ?? [])
            {
                if (S3StoreSession.ToOffset(upload.Initiated) < limit && !IsHeld(upload.Key))
                {
                    await store.Client.AbortMultipartUploadAsync(store.Bucket, upload.Key, upload.UploadId, cancellationToken);
                    removed++;
                }
            }

            (keyMarker, uploadMarker) = page.IsTruncated == true ? (page.NextKeyMarker, page.NextUploadIdMarker) : (null, null);
        }
        while (keyMarker is not null);
        return removed;
    }

    /// <summary>True for a staging key whose partial an upload of this process holds (a long upload, still going).</summary>
    private bool IsHeld(string key) =>
        key.StartsWith(Prefix, StringComparison.Ordinal) && key[Prefix.Length..].Split('/')[0] is var id && store.Holders.ContainsKey(id);

    private async Task DeleteKeysAsync(List<string> keys, CancellationToken cancellationToken)
    {
        for (int i = 0; i < keys.Count; i += 1000)
        {
            var batch = keys.Skip(i).Take(1000).Select(k => new KeyVersion { Key = k }).ToList();
            await store.Client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = store.Bucket, Objects = batch, Quiet = true }, cancellationToken);
        }
    }
}
