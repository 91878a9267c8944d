using Amazon.S3.Model;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// A put's check that its name is not a directory (keys below <c>NAME/</c>), shared by the server's connections. The
/// first file the server commits into a directory is checked alone (one ListObjectsV2 of <c>NAME/</c>, MaxKeys 1). From the
/// second on, the directory's subdirectories are read once, a page of its listing with the <c>/</c> delimiter, and
/// the later files of that directory are checked against them: a tree's files then cost one request each (the PUT)
/// instead of two. A directory larger than <see cref="MaxPages"/> pages keeps the check per file.
/// </summary>
/// <remarks>
/// What was read is trusted for <see cref="FreshFor"/>; the directories this server makes are added as it makes them.
/// The check was never atomic with the PUT (S3 has no such condition): another client that makes <c>NAME/…</c> in
/// the same moment still races it. The reading widens that moment to at most <see cref="FreshFor"/> for directories
/// made by other connections; a put over such a directory then leaves a file and a directory of the same name,
/// which listings show as both and which a delete of either resolves. Nothing stored is lost either way.
/// </remarks>
internal sealed class S3Subdirectories(S3Store store)
{
    /// <summary>How long a directory's reading is trusted.</summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(5);

    /// <summary>The most listing pages read for one directory (1,000 entries each) before it is checked per file.</summary>
    public const int MaxPages = 4;

    private readonly Dictionary<string, Reading> _byPrefix = new(StringComparer.Ordinal);

    /// <summary>True when <paramref name="key"/> has keys below it (<c>key/…</c>): an upload may not take the name.</summary>
    public async Task<bool> HasKeysBelowAsync(string path, string key, CancellationToken cancellationToken)
    {
        int slash = key.LastIndexOf('/');
        var parent = key[..(slash + 1)];
        var name = key[(slash + 1)..];
        var now = store.Options.TimeProvider.GetUtcNow();
        Task<HashSet<string>?>? names = null;
        bool alone;
        lock (_byPrefix)
        {
            if (_byPrefix.TryGetValue(parent, out var reading) && now - reading.Started > FreshFor)
            {
                // Stale: read again at the next file, not this one (which one request settles as well).
                _byPrefix.Remove(parent);
                reading = null;
            }

            alone = reading is null;
            if (reading is null)
            {
                _byPrefix[parent] = new Reading(now, null);
            }
            else if (reading.Names is null)
            {
                // The second file into this directory: read its subdirectories for the files that follow.
                names = ReadAsync(path, parent, CancellationToken.None);
                _byPrefix[parent] = new Reading(now, names);
            }
            else
            {
                names = reading.Names;
            }
        }

        if (!alone && await ReadOrNullAsync(names!) is { } subdirectories)
        {
            lock (subdirectories)
            {
                // Under the lock that Add takes: a HashSet is not safe to read while it is written.
                return subdirectories.Contains(name);
            }
        }

        var below = await S3Errors.WrapAsync(path, () => store.Client.ListObjectsV2Async(
            new ListObjectsV2Request { BucketName = store.Bucket, Prefix = key + "/", MaxKeys = 1 }, cancellationToken));
        return below.KeyCount > 0;
    }

    /// <summary>Records a directory this server made or found (its key prefix without the final <c>/</c>).</summary>
    public void Add(string directoryKey)
    {
        int slash = directoryKey.LastIndexOf('/');
        var parent = directoryKey[..(slash + 1)];
        lock (_byPrefix)
        {
            if (_byPrefix.TryGetValue(parent, out var reading) && reading.Names is { IsCompletedSuccessfully: true } names && names.Result is { } set)
            {
                lock (set)
                {
                    set.Add(directoryKey[(slash + 1)..]);
                }
            }
        }
    }

    /// <summary>Forgets every reading: a directory was deleted.</summary>
    public void Clear()
    {
        lock (_byPrefix)
        {
            _byPrefix.Clear();
        }
    }

    private static async Task<HashSet<string>?> ReadOrNullAsync(Task<HashSet<string>?> names)
    {
        try
        {
            return await names;
        }
        catch (FileXferException)
        {
            // The reading failed: the file is checked alone, which reports the failure if it lasts.
            return null;
        }
    }

    private async Task<HashSet<string>?> ReadAsync(string path, string parent, CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        string? token = null;
        for (int page = 0; page < MaxPages; page++)
        {
            var listed = await S3Errors.WrapAsync(path, () => store.Client.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = store.Bucket, Prefix = parent, Delimiter = "/", ContinuationToken = token }, cancellationToken));
            foreach (var prefix in listed.CommonPrefixes ?? [])
            {
                if (prefix.Length > parent.Length + 1)
                {
                    names.Add(prefix[parent.Length..^1]);
                }
            }

            if (listed.IsTruncated != true)
            {
                return names;
            }

            token = listed.NextContinuationToken;
        }

        return null;
    }

    private sealed record Reading(DateTimeOffset Started, Task<HashSet<string>?>? Names);
}
