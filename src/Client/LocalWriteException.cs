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

    /// <summary>
    /// The failure to write <paramref name="localPath"/>, told in terms of that path (not of the temp file the bytes
    /// were going to).
    /// </summary>
    public static LocalWriteException For(string localPath, Exception innerException)
    {
        ArgumentNullException.ThrowIfNull(innerException);
        if (innerException is LocalWriteException told)
        {
            // Already told in terms of the path (a file saved without its time or mode).
            return told;
        }

        var message = innerException switch
        {
            IOException io when (io.HResult & 0xFFFF) is 28 or 0x70 || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
                => $"no space left on the local disk for '{localPath}'",
            UnauthorizedAccessException => $"permission denied writing '{localPath}'",
            DirectoryNotFoundException or FileNotFoundException => $"cannot write '{localPath}': its directory does not exist",
            _ => $"cannot write '{localPath}': {innerException.Message}",
        };
        return new LocalWriteException(message, innerException);
    }
}
