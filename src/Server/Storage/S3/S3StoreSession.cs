using Amazon.S3;
using Amazon.S3.Model;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// One connection's session on an <see cref="S3Store"/>, rooted at <paramref name="keyRoot"/> (the store's prefix,
/// or a token's subtree below it, as a key prefix ending with <c>/</c> or empty). The directories made or found are
/// remembered by the store for all its connections (<see cref="S3KnownDirectories"/>), so the next file put into one
/// costs no request for its parents.
/// </summary>
internal sealed class S3StoreSession(S3Store store, string keyRoot, bool isTop) : IStoreSession
{

    // This connection's place in its client's run.
    private readonly RunMember _run = new(store.Fence);
    private bool _declaredElsewhere;

    public long MaxFileSize => store.Options.MaxFileSize;

    public bool IsAbandoned => _declaredElsewhere || _run.IsAbandoned;

    public async ValueTask JoinRunAsync(string scope, RunTicket ticket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        _run.Join(scope, ticket);
        if (ticket.Abandoned.Count > 0)
        {
            // Recorded in the bucket before the handshake is answered: the other servers honour it too.
            await store.FenceRecords.DeclareAsync(scope, ticket, cancellationToken);
        }
    }

    internal S3Store Store => store;

    /// <summary>The directories' subdirectories, read for the check that a put's name is not a directory.</summary>
    internal S3Subdirectories Subdirectories => store.Subdirectories;

    /// <summary>The object key of a normalized path.</summary>
    internal string KeyOf(string normalized) => keyRoot + normalized;

    /// <summary>The key prefix of a directory's contents (its marker's key), or the session's root.</summary>
    internal string PrefixOf(string normalized) => normalized.Length == 0 ? keyRoot : keyRoot + normalized + "/";

    /// <summary>Normalizes a client's path, refusing the reserved folder at the store's top.</summary>
    internal string Normalize(string path)
    {
        var normalized = RemotePath.Normalize(path);
        if (isTop && (normalized == S3Store.ReservedName || normalized.StartsWith(S3Store.ReservedName + "/", StringComparison.Ordinal)))
        {
            throw new FileXferException(ErrorCode.AccessDenied, $"'{RemotePath.Escape(normalized)}' is reserved for the server");
        }

        return normalized;
    }

    /// <summary>True when the listing of the session's root must hide the reserved folder.</summary>
    internal bool HidesReserved => isTop;

    public async ValueTask<RemoteEntry> StatAsync(string path, CancellationToken cancellationToken)
    {
        var normalized = Normalize(path);
        return await TryDescribeFileAsync(normalized, cancellationToken)
            ?? await TryDescribeDirectoryAsync(normalized, cancellationToken)
            ?? throw S3Errors.NotFound(normalized);
    }

    public IAsyncEnumerable<ListedEntry> ListAsync(string path, bool recursive, CancellationToken cancellationToken) =>
        new S3Lister(this, store.Options.MaxListEntries).ListAsync(Normalize(path), recursive, cancellationToken);

    // A directory's time is its marker's, which adding an entry does not change: there is nothing to set back.
    public bool SetsParentTimes => false;

    // Nothing to set on a parent (SetsParentTimes is false), so nothing fails to be set.
    public async ValueTask<MadeDirectory> MakeDirectoryAsync(string path, DateTimeOffset? modified, int? mode, DateTimeOffset? parentModified, CancellationToken cancellationToken) =>
        new(await MakeDirectoryAsync(path, modified, mode, cancellationToken));

    private async ValueTask<RemoteEntry> MakeDirectoryAsync(string path, DateTimeOffset? modified, int? mode, CancellationToken cancellationToken)
    {
        var normalized = Normalize(path);
        if (normalized.Length == 0)
        {
            return RootEntry();
        }

        await EnsureDirectoriesAsync(normalized, cancellationToken);
        if (modified is not null || mode is not null)
        {
            // Keep what is not being set: the marker is written whole.
            var existing = await TryDescribeDirectoryAsync(normalized, cancellationToken);
            var request = new PutObjectRequest { BucketName = store.Bucket, Key = PrefixOf(normalized), InputStream = new MemoryStream([], writable: false) };
            S3Metadata.Write(request.Metadata, modified ?? existing?.ModifiedUtc, mode ?? existing?.Mode);
            await S3Errors.WrapAsync(normalized, () => store.Client.PutObjectAsync(request, cancellationToken));
            if (modified is { } time)
            {
                // What a HEAD of the marker would now describe (its time is the one written), without asking.
                return new RemoteEntry(normalized, EntryKind.Directory, 0, time, mode ?? existing?.Mode);
            }
        }

        return await TryDescribeDirectoryAsync(normalized, cancellationToken) ?? throw S3Errors.NotFound(normalized);
    }

    public async ValueTask<RemoteEntry> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        var normalized = Normalize(path);
        if (normalized.Length == 0)
        {
            throw new FileXferException(ErrorCode.AccessDenied, "the root cannot be deleted");
        }

        if (await TryDescribeFileAsync(normalized, cancellationToken) is { } file)
        {
            await S3Errors.WrapAsync(normalized, () => store.Client.DeleteObjectAsync(store.Bucket, KeyOf(normalized), cancellationToken));
            return file;
        }

        var directory = await TryDescribeDirectoryAsync(normalized, cancellationToken) ?? throw S3Errors.NotFound(normalized);
        var prefix = PrefixOf(normalized);
        var inside = await S3Errors.WrapAsync(normalized, () => store.Client.ListObjectsV2Async(
            new ListObjectsV2Request { BucketName = store.Bucket, Prefix = prefix, MaxKeys = 2 }, cancellationToken));
        if (inside.S3Objects?.Any(o => o.Key != prefix) == true)
        {
            throw new FileXferException(ErrorCode.DirectoryNotEmpty, $"directory '{RemotePath.Escape(normalized)}' is not empty");
        }

        await S3Errors.WrapAsync(normalized, () => store.Client.DeleteObjectAsync(store.Bucket, prefix, cancellationToken));
        store.KnownDirectories.Forget(KeyOf(normalized));
        store.Subdirectories.Clear();
        return directory;
    }

    public async ValueTask<IStoredFile> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        var normalized = Normalize(path);
        var head = await TryHeadAsync(normalized, KeyOf(normalized), cancellationToken);
        if (head is null)
        {
            throw await TryDescribeDirectoryAsync(normalized, cancellationToken) is not null
                ? new FileXferException(ErrorCode.IsADirectory, $"'{RemotePath.Escape(normalized)}' is a directory")
                : S3Errors.NotFound(normalized);
        }

        return new S3StoredFile(store, KeyOf(normalized), head.ETag, FileEntry(normalized, head), head.Metadata);
    }

    public Task TakeOverResumeKeyAsync(byte[] resumeKey, string path, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken) =>
        store.Partials.TakeOverAsync(S3Partials.IdOf(resumeKey, KeyOf(Normalize(path))), wait, timeProvider, cancellationToken);

    public async ValueTask<IUpload> BeginUploadAsync(UploadStart start, CancellationToken cancellationToken)
    {
        var normalized = Normalize(start.Path);
        if (normalized.Length == 0)
        {
            throw new FileXferException(ErrorCode.IsADirectory, "the root is a directory");
        }

        if (start.DeclaredSize is { } size && size > store.Options.MaxFileSize)
        {
            throw new FileXferException(ErrorCode.TooLarge, $"{size} bytes is more than the server's limit of {store.Options.MaxFileSize}");
        }

        return await S3Upload.BeginAsync(this, normalized, start.DeclaredSize, start.ResumeKey, cancellationToken);
    }

    public async ValueTask<IReadOnlyList<FileXferException?>> CommitAsync(IReadOnlyList<IUpload> uploads, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uploads);
        var results = new FileXferException?[uploads.Count];
        try
        {
            // Declared abandoned through another server (the bucket's record), before anything of this group is written.
            if (!IsAbandoned && _run.Ticket is { } ticket && await store.FenceRecords.IsDeclaredAsync(_run.Scope, ticket, cancellationToken))
            {
                _declaredElsewhere = true;
            }

            // Small files (a tree's) are committed several at once: each is one request, mostly waiting.
            await Parallel.ForAsync(0, uploads.Count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, token) =>
            {
                var upload = uploads[i] as S3Upload ?? throw new ArgumentException("an upload of another store", nameof(uploads));
                try
                {
                    // Checked before the requests that publish, not under the fence's lock as the local store does (a
                    // request cannot run under a lock): a declaration that lands while the object is being written
                    // does not stop it.
                    if (IsAbandoned)
                    {
                        throw RunMember.NotStored(upload.Path);
                    }

                    await upload.CommitAsync(token);
                }
                catch (FileXferException ex)
                {
                    results[i] = ex;
                }
            });
        }
        finally
        {
            foreach (var upload in uploads)
            {
                await upload.DisposeAsync();
            }
        }

        return results;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// Makes sure <paramref name="normalized"/> and its parents are directories: a marker for each that has none, an
    /// error when a file stands in the way. What this server made or found is remembered for a while (<see cref="S3KnownDirectories"/>).
    /// </summary>
    internal async Task EnsureDirectoriesAsync(string normalized, CancellationToken cancellationToken)
    {
        var path = string.Empty;
        foreach (var name in normalized.Split('/'))
        {
            path = RemotePath.Combine(path, name);
            var directory = path;
            await store.KnownDirectories.EnsureAsync(KeyOf(directory), () => EnsureDirectoryAsync(directory, CancellationToken.None), cancellationToken);
        }
    }

    private async Task EnsureDirectoryAsync(string path, CancellationToken cancellationToken)
    {
        if (await TryHeadAsync(path, KeyOf(path), cancellationToken) is not null)
        {
            throw new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(path)}' is a file");
        }

        var marker = PrefixOf(path);
        if (await TryHeadAsync(path, marker, cancellationToken) is null)
        {
            // If-None-Match: a marker made meanwhile by another connection keeps its time and mode.
            var request = new PutObjectRequest { BucketName = store.Bucket, Key = marker, InputStream = new MemoryStream([], writable: false), IfNoneMatch = "*" };
            try
            {
                await store.Client.PutObjectAsync(request, cancellationToken);
            }
            catch (AmazonS3Exception ex) when (S3Errors.IsPreconditionFailed(ex) || ex.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                // Made by someone else since the HEAD: it exists, which is all this wanted.
            }
            catch (Exception ex) when (S3Errors.IsStorageFailure(ex))
            {
                throw S3Errors.Translate(path, ex);
            }
        }

        store.Subdirectories.Add(KeyOf(path));
    }

    /// <summary>True when <paramref name="normalized"/> is a directory (a marker, or keys below it).</summary>
    internal async Task<bool> IsDirectoryAsync(string normalized, CancellationToken cancellationToken) =>
        await TryDescribeDirectoryAsync(normalized, cancellationToken) is not null;

    internal async Task<RemoteEntry?> TryDescribeFileAsync(string normalized, CancellationToken cancellationToken) =>
        normalized.Length == 0 ? null
        : await TryHeadAsync(normalized, KeyOf(normalized), cancellationToken) is { } head ? FileEntry(normalized, head) : null;

    /// <summary>A directory by its marker (time and mode), else by any key below it (an implicit directory); null when neither.</summary>
    internal async Task<RemoteEntry?> TryDescribeDirectoryAsync(string normalized, CancellationToken cancellationToken)
    {
        if (normalized.Length == 0)
        {
            return RootEntry();
        }

        var prefix = PrefixOf(normalized);
        if (await TryHeadAsync(normalized, prefix, cancellationToken) is { } marker)
        {
            return DirectoryEntry(normalized, marker.Metadata, marker.LastModified);
        }

        var inside = await S3Errors.WrapAsync(normalized, () => store.Client.ListObjectsV2Async(
            new ListObjectsV2Request { BucketName = store.Bucket, Prefix = prefix, MaxKeys = 1 }, cancellationToken));
        return inside.KeyCount > 0 ? new RemoteEntry(normalized, EntryKind.Directory, 0, DateTimeOffset.UnixEpoch, null) : null;
    }

    internal async Task<GetObjectMetadataResponse?> TryHeadAsync(string normalized, string key, CancellationToken cancellationToken)
    {
        try
        {
            return await store.Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = store.Bucket, Key = key }, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (S3Errors.IsNotFound(ex))
        {
            return null;
        }
        catch (Exception ex) when (S3Errors.IsStorageFailure(ex))
        {
            throw S3Errors.Translate(normalized, ex);
        }
    }

    internal static RemoteEntry FileEntry(string name, GetObjectMetadataResponse head) =>
        new(name, EntryKind.File, head.ContentLength, S3Metadata.ModifiedOr(head.Metadata, ToOffset(head.LastModified)), S3Metadata.ModeOf(head.Metadata));

    internal static RemoteEntry DirectoryEntry(string name, MetadataCollection metadata, DateTime? lastModified) =>
        new(name, EntryKind.Directory, 0, S3Metadata.ModifiedOr(metadata, ToOffset(lastModified)), S3Metadata.ModeOf(metadata));

    internal static DateTimeOffset ToOffset(DateTime? time) =>
        time is { } t ? new DateTimeOffset(t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime()) : DateTimeOffset.UnixEpoch;

    private static RemoteEntry RootEntry() => new(string.Empty, EntryKind.Directory, 0, DateTimeOffset.UnixEpoch, null);
}
