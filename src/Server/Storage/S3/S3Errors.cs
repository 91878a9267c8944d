using System.Net;
using Amazon.Runtime;
using Amazon.S3;

namespace FileXfer.Server.Storage.S3;

/// <summary>How the object store's failures reach a client: as coded errors that name the remote path.</summary>
internal static class S3Errors
{
    public static bool IsNotFound(AmazonS3Exception exception) =>
        exception.StatusCode == HttpStatusCode.NotFound || exception.ErrorCode is "NoSuchKey" or "NoSuchUpload";

    public static bool IsPreconditionFailed(AmazonS3Exception exception) =>
        exception.StatusCode == HttpStatusCode.PreconditionFailed;

    /// <summary>True for the failures <see cref="Translate"/> turns into coded errors.</summary>
    public static bool IsStorageFailure(Exception exception) =>
        exception is AmazonServiceException or AmazonClientException or HttpRequestException or IOException;

    public static FileXferException Translate(string normalized, Exception exception) => exception switch
    {
        AmazonS3Exception s3 when IsNotFound(s3) => NotFound(normalized),
        AmazonS3Exception s3 when s3.StatusCode == HttpStatusCode.Forbidden =>
            new(ErrorCode.AccessDenied, $"the object store denied access to '{RemotePath.Escape(normalized)}'", exception),
        AmazonS3Exception s3 when s3.ErrorCode is "QuotaExceeded" or "EntityTooLarge" =>
            new(ErrorCode.InsufficientStorage, "no space left on the server's object store", exception),
        _ => new(ErrorCode.Unavailable, $"object store error on '{RemotePath.Escape(normalized)}': {exception.Message}", exception),
    };

    public static FileXferException NotFound(string normalized) =>
        new(ErrorCode.NotFound, $"'{RemotePath.Escape(normalized)}' not found");

    /// <summary>Runs a request and turns its failures into coded errors.</summary>
    public static async Task<T> WrapAsync<T>(string normalized, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            throw Translate(normalized, ex);
        }
    }
}
