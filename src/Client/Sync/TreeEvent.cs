namespace FileXfer.Client.Sync;

/// <summary>One item's outcome in a tree transfer, as reported while the transfer runs.</summary>
/// <param name="Operation"><c>put</c>, <c>get</c> or <c>delete</c>.</param>
/// <param name="Status">What happened.</param>
/// <param name="LocalPath">The local path, when there is one.</param>
/// <param name="RemotePath">The remote path.</param>
/// <param name="Bytes">Bytes transferred, or the size of a skipped file.</param>
/// <param name="HashAlgorithm">The hash algorithm.</param>
/// <param name="HashHex">The verified hash, when known.</param>
/// <param name="Error">Why it failed.</param>
public sealed record TreeEvent(string Operation, ItemStatus Status, string? LocalPath, string RemotePath, long Bytes, string HashAlgorithm, string? HashHex, Exception? Error)
{
    /// <summary>True when the failure is an integrity check (exit code 4 rather than 7).</summary>
    public bool IsIntegrityFailure => Error is FileXferException { Code: ErrorCode.IntegrityMismatch or ErrorCode.SizeMismatch };
}
