using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// The server's object-store options: <c>--store s3://BUCKET[/PREFIX]</c> with <c>--s3-endpoint</c> and
/// <c>--s3-region</c>; credentials come from the standard places only (<c>AWS_ACCESS_KEY_ID</c>,
/// <c>AWS_SECRET_ACCESS_KEY</c>, <c>AWS_SESSION_TOKEN</c>, the shared credentials file), never from the command line,
/// where other users could read them. Without <c>--store</c> the server serves its <c>--root</c> directory.
/// </summary>
internal sealed class S3CommandLine
{
    private readonly Option<string?> _store = new("--store")
    {
        Description = "Serve an S3-compatible object store instead of --root's files: s3://BUCKET[/PREFIX]. --root then holds only the server's own "
            + "files (its TLS certificate). Credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the shared credentials file.",
    };

    private readonly Option<string?> _endpoint = new("--s3-endpoint")
    {
        Description = "The object store's URL, e.g. http://127.0.0.1:7480 for a Ceph radosgw (else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS itself).",
    };

    private readonly Option<string?> _region = new("--s3-region")
    {
        Description = "The object store's region (else AWS_REGION, AWS_DEFAULT_REGION, or us-east-1).",
    };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public static S3CommandLine AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var options = new S3CommandLine();
        command.Options.Add(options._store);
        command.Options.Add(options._endpoint);
        command.Options.Add(options._region);
        return options;
    }

    /// <summary>What was given, or null when the server serves its root directory.</summary>
    public Settings? Read(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var store = result.GetValue(_store);
        return store is null ? null : new Settings(store, result.GetValue(_endpoint), result.GetValue(_region));
    }

    /// <summary>The object-store options as given.</summary>
    public sealed record Settings(string Store, string? Endpoint, string? Region)
    {
        /// <summary>
        /// The store, after checking that its bucket answers; null (the reason written to <paramref name="stderr"/>)
        /// when the options are wrong or the bucket cannot be used.
        /// </summary>
        public async Task<S3Store?> TryOpenAsync(S3StoreOptions options, TextWriter stderr, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(stderr);
            if (!BucketLocation.TryParse(Store, out var location, out var error))
            {
                await stderr.WriteLineAsync($"filexfer-server: --store: {error}");
                return null;
            }

            Uri? endpoint = null;
            if (Endpoint is not null && (!Uri.TryCreate(Endpoint, UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https")))
            {
                await stderr.WriteLineAsync($"filexfer-server: --s3-endpoint: '{Endpoint}' is not an http:// or https:// URL");
                return null;
            }

            var client = new S3Connection(endpoint, Region, AccessKey: null, SecretKey: null).CreateClient();
            try
            {
                // One request now, so a wrong bucket, endpoint or key is a clear line at start, not a failure per request.
                await client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = location!.Bucket, Prefix = location.Prefix, MaxKeys = 1 }, cancellationToken);
            }
            catch (Exception ex) when (S3Errors.IsStorageFailure(ex))
            {
                client.Dispose();
                await stderr.WriteLineAsync($"filexfer-server: cannot use {location}: {ex.Message}");
                return null;
            }

            return new S3Store(client, location, options, ownsClient: true);
        }
    }

    /// <summary>Removes stale uploads from the object store, a few times per age and at least hourly, until stopped.</summary>
    public static async Task SweepAsync(S3Store store, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var period = TimeSpan.FromTicks(Math.Clamp(store.Options.PartialMaxAge.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromHours(1).Ticks));
        using var timer = new PeriodicTimer(period, store.Options.TimeProvider);
        try
        {
            do
            {
                try
                {
                    int removed = await store.RemoveStaleUploadsAsync(cancellationToken);
                    if (removed > 0)
                    {
                        ServerLog.StaleUploadsRemoved(logger, removed);
                    }
                }
                catch (Exception ex) when (S3Errors.IsStorageFailure(ex))
                {
                    // The store is unreachable for now: the next round tries again.
                    ServerLog.StaleSweepFailed(logger, ex.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
            // The server is stopping.
        }
    }
}
