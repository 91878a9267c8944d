using System.Collections.Concurrent;
using Amazon.S3;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// The object store: files as objects of one bucket under a key prefix, directories as key prefixes (with a
/// zero-byte marker object <c>DIR/</c> holding their time and mode, so an empty directory exists), the verified
/// hash, time and mode of each file in its metadata (<see cref="S3Metadata"/>). Servers keep nothing of their own:
/// an upload's staged parts live in the bucket under <c>.filexfer/partials/</c>, so a retry through any server
/// over the same bucket resumes them (<see cref="S3Upload"/>).
/// </summary>
public sealed class S3Store : IStore, IDisposable
{
    /// <summary>The top-level name reserved for the server's own objects; clients cannot name or list it.</summary>
    public const string ReservedName = ".filexfer";

    private readonly bool _ownsClient;

    /// <summary>
    /// A store over <paramref name="location"/> reached through <paramref name="client"/>, which the store disposes
    /// only when it <paramref name="ownsClient"/>.
    /// </summary>
    public S3Store(IAmazonS3 client, BucketLocation location, S3StoreOptions? options = null, bool ownsClient = false)
    {
        _ownsClient = ownsClient;
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(location);
        Client = client;
        Location = location;
        Options = options ?? new S3StoreOptions();
        if (Options.MinPartSize < 5 << 20 || Options.MaxCopySize < 5 << 20)
        {
            throw new ArgumentException("S3 parts are at least 5 MiB", nameof(options));
        }

        Partials = new S3Partials(this);
        Fence = new RunFence(Options.TimeProvider) { Keep = Options.PartialMaxAge };
        KnownDirectories = new S3KnownDirectories(Options.TimeProvider);
        Subdirectories = new S3Subdirectories(this);
        FenceRecords = new S3FenceRecords(this);
        PartBuffers = new S3PartBuffers((long)(Options.PartsInFlight + 1) * Options.MinPartSize);
    }

    /// <summary>The service.</summary>
    public IAmazonS3 Client { get; }

    /// <summary>The bucket and the prefix the store owns.</summary>
    public BucketLocation Location { get; }

    /// <summary>The store's settings.</summary>
    public S3StoreOptions Options { get; }

    /// <inheritdoc />
    public long MaxFileSize => Options.MaxFileSize;

    /// <summary>
    /// The connections declared abandoned by their clients' later connections, in this server's memory; the bucket
    /// keeps them too (<see cref="FenceRecords"/>), so that a retry through another server fences this one's attempt.
    /// </summary>
    internal RunFence Fence { get; }

    /// <summary>The directories this server recently made or found, for all its connections.</summary>
    internal S3KnownDirectories KnownDirectories { get; }

    /// <summary>The directories' subdirectories, read for the check that a put's name is not a directory.</summary>
    internal S3Subdirectories Subdirectories { get; }

    /// <summary>The fence's declarations kept in the bucket, for all the servers over it.</summary>
    internal S3FenceRecords FenceRecords { get; }

    /// <summary>The buffers of the parts on their way, lent to every upload of this store.</summary>
    internal S3PartBuffers PartBuffers { get; }

    /// <summary>The staged parts of uploads, and the sweep of stale ones.</summary>
    internal S3Partials Partials { get; }

    /// <summary>The uploads of this process that hold a partial, by partial id: a retry takes one over.</summary>
    internal ConcurrentDictionary<string, S3Upload> Holders { get; } = new(StringComparer.Ordinal);

    /// <summary>The bucket's name.</summary>
    internal string Bucket => Location.Bucket;

    /// <inheritdoc />
    public IStoreSession OpenSession(string subtree)
    {
        var normalized = RemotePath.Normalize(subtree);
        if (normalized.Length > 0 && (normalized == ReservedName || normalized.StartsWith(ReservedName + "/", StringComparison.Ordinal)))
        {
            throw new FileXferException(ErrorCode.AccessDenied, $"subtree '{RemotePath.Escape(normalized)}' is the server's reserved folder");
        }

        return new S3StoreSession(this, normalized.Length == 0 ? Location.Prefix : Location.Prefix + normalized + "/", isTop: normalized.Length == 0);
    }

    /// <summary>
    /// Removes what stale uploads left: staged parts untouched for longer than <see cref="S3StoreOptions.PartialMaxAge"/>,
    /// multipart uploads started that long ago and never completed (a server stopped in the middle of a commit), and the
    /// fence's records that old. Returns how many partials, multipart uploads and records were removed.
    /// </summary>
    public async Task<int> RemoveStaleUploadsAsync(CancellationToken cancellationToken) =>
        await Partials.RemoveStaleAsync(cancellationToken) + await FenceRecords.RemoveStaleAsync(cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsClient)
        {
            Client.Dispose();
        }
    }
}
