using Amazon.Runtime;
using Amazon.S3;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// How to reach an S3-compatible service: an endpoint (null for AWS itself), a region, and credentials; any of them
/// null is taken from the standard places (<c>AWS_ENDPOINT_URL_S3</c>/<c>AWS_ENDPOINT_URL</c>, <c>AWS_REGION</c>/<c>AWS_DEFAULT_REGION</c>,
/// <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c> and the SDK's other sources).
/// </summary>
public sealed record S3Connection(Uri? Endpoint, string? Region, string? AccessKey, string? SecretKey)
{
    /// <summary>
    /// A client for this connection: path-style addressing (a bucket name is not a host name on a private service),
    /// and checksums only where the protocol requires them (Ceph's radosgw refuses the SDK's default trailing checksums
    /// with XAmzContentSHA256Mismatch); the integrity of the content is FileXfer's own end-to-end hash.
    /// </summary>
    public IAmazonS3 CreateClient()
    {
        var endpoint = Endpoint?.ToString()
            ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3")
            ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
        var region = Region ?? Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") ?? "us-east-1";
        var config = new AmazonS3Config
        {
            ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            AuthenticationRegion = region,
        };
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        return AccessKey is not null && SecretKey is not null
            ? new AmazonS3Client(new BasicAWSCredentials(AccessKey, SecretKey), config)
            : new AmazonS3Client(config);
    }
}
