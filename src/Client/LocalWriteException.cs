namespace FileXfer.Client;

/// <summary>
/// Writing a received file locally failed (a full disk, a missing permission). The body was still read to its
/// end, so the connection is in step; the inner exception says what went wrong.
/// </summary>
public sealed class LocalWriteException : IOException
{
    public LocalWriteException()
        : base("writing the local file failed")
    {
    }

    public LocalWriteException(string message)
        : base(message)
    {
    }

    public LocalWriteException(Exception innerException)
        : base(innerException?.Message ?? "writing the local file failed", innerException)
    {
    }

    public LocalWriteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
