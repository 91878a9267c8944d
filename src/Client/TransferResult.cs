namespace FileXfer.Client;

/// <summary>The outcome of a verified put or get.</summary>
/// <param name="RemotePath">The normalized remote path.</param>
/// <param name="Size">The bytes transferred.</param>
/// <param name="HashAlgorithm">The algorithm both sides hashed with.</param>
/// <param name="Hash">The hash both sides agreed on.</param>
/// <param name="ModifiedUtc">The modification time of the source, when known.</param>
/// <param name="Mode">The Unix permission bits of the source, when known.</param>
public sealed record TransferResult(string RemotePath, long Size, string HashAlgorithm, byte[] Hash, DateTimeOffset? ModifiedUtc, int? Mode)
{
    /// <summary>Where the bytes sent in this transfer started: more than 0 when a proven partial was resumed.</summary>
    public long ResumedFrom { get; init; }

    /// <summary>
    /// True when the put carried its directory's time (ParentMTime) and the server stored the file but could not give
    /// the directory that time (<see cref="FieldTag.ParentTimeNotSet"/>): the directory's time is still to be set.
    /// </summary>
    public bool ParentTimeNotSet { get; init; }

    /// <summary>The hash as lowercase hex.</summary>
    public string HashHex => Convert.ToHexStringLower(Hash);
}
