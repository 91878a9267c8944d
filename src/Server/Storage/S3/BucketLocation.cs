namespace FileXfer.Server.Storage.S3;

/// <summary>Where the store's objects live: <c>s3://BUCKET[/PREFIX]</c>.</summary>
/// <param name="Bucket">The bucket's name.</param>
/// <param name="Prefix">The key prefix the store owns, empty or ending with <c>/</c>.</param>
public sealed record BucketLocation(string Bucket, string Prefix)
{
    /// <summary>Reads <c>s3://BUCKET[/PREFIX]</c>; the prefix must be a valid remote path.</summary>
    public static bool TryParse(string value, out BucketLocation? location, out string? error)
    {
        location = null;
        const string scheme = "s3://";
        if (value is null || !value.StartsWith(scheme, StringComparison.Ordinal))
        {
            error = "an object store is named s3://BUCKET[/PREFIX]";
            return false;
        }

        var rest = value[scheme.Length..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? string.Empty : rest[(slash + 1)..].TrimEnd('/');
        if (bucket.Length is < 3 or > 63 || !bucket.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.'))
        {
            error = $"'{RemotePath.Escape(bucket)}' is not a bucket name (3 to 63 characters: a-z, 0-9, '-', '.')";
            return false;
        }

        if (prefix.Length > 0 && !RemotePath.TryNormalize(prefix, out prefix, out var pathError))
        {
            error = $"the prefix '{RemotePath.Escape(prefix)}' is not a valid path: {pathError}";
            return false;
        }

        location = new BucketLocation(bucket, prefix.Length == 0 ? string.Empty : prefix + "/");
        error = null;
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => $"s3://{Bucket}/{Prefix}";
}
