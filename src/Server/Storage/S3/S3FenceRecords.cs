using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3.Model;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// The fence kept in the bucket, so that every server over it honours a declaration any one of them received: a
/// connection declared abandoned is an empty object <c>.filexfer/fence/SCOPE/RUN/NUMBER</c> (SCOPE: a digest of the
/// token's scope; RUN: the run id in hex; NUMBER: the connection's number in its run), written before the declaring
/// connection's handshake is answered. A session asks for its own record before each group it publishes (one HEAD);
/// the stale sweep removes records older than the partial-age limit, by when a client has long stopped retrying.
/// </summary>
/// <remarks>
/// S3 has no condition that ties a PUT to another object's absence, so the check runs before the publishing requests,
/// not atomically with them: a declaration that lands while a group is being written does not stop that group. The
/// in-memory fence of the server that received the declaration (<see cref="RunFence"/>) is checked as well.
/// </remarks>
internal sealed class S3FenceRecords(S3Store store)
{
    private string Prefix => store.Location.Prefix + S3Store.ReservedName + "/fence/";

    /// <summary>Writes a record for each connection <paramref name="ticket"/> declares abandoned.</summary>
    public async Task DeclareAsync(string scope, RunTicket ticket, CancellationToken cancellationToken)
    {
        try
        {
            await Parallel.ForEachAsync(ticket.Abandoned, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (number, token) =>
                await store.Client.PutObjectAsync(new PutObjectRequest { BucketName = store.Bucket, Key = KeyOf(scope, ticket.RunId, number), ContentBody = string.Empty }, token));
        }
        catch (Exception ex) when (S3Errors.IsStorageFailure(ex))
        {
            // Unrecorded, the declaration would not hold on the other servers: the handshake fails and the client retries.
            throw new FileXferException(ErrorCode.Unavailable, "the store could not record the connections this client gave up", ex);
        }
    }

    /// <summary>True when a connection of any server declared the connection <paramref name="ticket"/> names abandoned.</summary>
    public async Task<bool> IsDeclaredAsync(string scope, RunTicket ticket, CancellationToken cancellationToken)
    {
        try
        {
            await store.Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = store.Bucket, Key = KeyOf(scope, ticket.RunId, ticket.Number) }, cancellationToken);
            return true;
        }
        catch (Amazon.S3.AmazonS3Exception ex) when (S3Errors.IsNotFound(ex))
        {
            return false;
        }
        catch (Exception ex) when (S3Errors.IsStorageFailure(ex))
        {
            throw new FileXferException(ErrorCode.Unavailable, "the store could not say whether this connection was given up", ex);
        }
    }

    /// <summary>Deletes the records older than the partial-age limit; returns how many.</summary>
    public async Task<int> RemoveStaleAsync(CancellationToken cancellationToken)
    {
        var limit = store.Options.TimeProvider.GetUtcNow() - store.Options.PartialMaxAge;
        int removed = 0;
        string? token = null;
        do
        {
            var page = await store.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = store.Bucket, Prefix = Prefix, ContinuationToken = token }, cancellationToken);
            var stale = (page.S3Objects ?? []).Where(o => S3StoreSession.ToOffset(o.LastModified) < limit).Select(o => new KeyVersion { Key = o.Key }).ToList();
            if (stale.Count > 0)
            {
                await store.Client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = store.Bucket, Objects = stale, Quiet = true }, cancellationToken);
                removed += stale.Count;
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return removed;
    }

    private string KeyOf(string scope, byte[] runId, uint number) =>
        $"{Prefix}{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(scope)).AsSpan(0, 16))}/{Convert.ToHexStringLower(runId)}/{number.ToString(CultureInfo.InvariantCulture)}";
}
