namespace FileXfer.Protocol.Transfer;

/// <summary>How sending a chunked body ended.</summary>
/// <param name="Length">The data bytes sent.</param>
/// <param name="Hash">The hash sent in BodyEnd; null when the body was aborted.</param>
/// <param name="AbortReason">Why the body was aborted; null when it was complete.</param>
public readonly record struct ChunkedBodyWriteResult(long Length, byte[]? Hash, string? AbortReason)
{
    /// <summary>True when the body was abandoned with the abort marker.</summary>
    public bool Aborted => AbortReason is not null;
}
