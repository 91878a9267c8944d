using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3.Model;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// The staged parts of uploads, kept in the bucket under <c>.filexfer/partials/ID/PARTSIZE/NNNNN</c>: everything a
/// resumed upload needs is there (which parts are held, their ETags, their bytes to hash the held prefix again), so
/// any server over the bucket can continue it. ID comes from the client's resume key and the object's key; an upload
/// without a resume key stages under a random ID and removes its parts when it ends.
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

    public string PartKey(string id, int partSize, int number) =>
        $"{Prefix}{id}/{partSize.ToString(CultureInfo.InvariantCulture)}/{number.ToString("D5", CultureInfo.InvariantCulture)}";

    /// <summary>The parts held for <paramref name="id"/> at <paramref name="partSize"/>: 1, 2, … without a gap, each whole.</summary>
    public async Task<List<string>> ListHeldAsync(string id, int partSize, int maxParts, CancellationToken cancellationToken)
    {
        var held = new List<string>();
        var prefix = $"{Prefix}{id}/{partSize.ToString(CultureInfo.InvariantCulture)}/";
        string? token = null;
        do
        {
            var page = await store.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = store.Bucket, Prefix = prefix, ContinuationToken = token }, cancellationToken);
            foreach (var part in page.S3Objects ?? [])
            {
                if (held.Count == maxParts || part.Key != PartKey(id, partSize, held.Count + 1) || part.Size != partSize)
                {
                    return held;
                }

                held.Add(part.ETag);
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return held;
    }

    /// <summary>Deletes every part staged under <paramref name="id"/>.</summary>
    public async Task DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var prefix = $"{Prefix}{id}/";
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
                if (S3StoreSession.ToOffset(upload.Initiated) < limit)
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

    private async Task DeleteKeysAsync(List<string> keys, CancellationToken cancellationToken)
    {
        for (int i = 0; i < keys.Count; i += 1000)
        {
            var batch = keys.Skip(i).Take(1000).Select(k => new KeyVersion { Key = k }).ToList();
            await store.Client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = store.Bucket, Objects = batch, Quiet = true }, cancellationToken);
        }
    }
}
