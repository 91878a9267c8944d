namespace FileXfer.Client;

/// <summary>The outcome of one item of a pipelined batch.</summary>
/// <param name="RemotePath">The normalized remote path.</param>
/// <param name="LocalPath">The local path, for transfers.</param>
/// <param name="Bytes">The bytes transferred or hashed.</param>
/// <param name="HashAlgorithm">The hash algorithm.</param>
/// <param name="Hash">The verified hash; null when the item failed.</param>
/// <param name="Error">Why the item failed; null when it succeeded.</param>
public sealed record BatchItemResult(string RemotePath, string? LocalPath, long Bytes, string HashAlgorithm, byte[]? Hash, Exception? Error)
{
    /// <summary>True when the item succeeded.</summary>
    public bool Succeeded => Error is null;

    /// <summary>
    /// True when the request carried its directory's time (ParentMTime: a put, a MakeDirectory) and succeeded, but the
    /// server could not give the directory that time (<see cref="FieldTag.ParentTimeNotSet"/>).
    /// </summary>
    public bool ParentTimeNotSet { get; init; }

    /// <summary>The hash as lowercase hex, or null.</summary>
    public string? HashHex => Hash is null ? null : Convert.ToHexStringLower(Hash);
}
