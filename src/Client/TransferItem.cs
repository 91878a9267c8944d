namespace FileXfer.Client;

/// <summary>One file of a batch transfer.</summary>
/// <param name="LocalPath">The local file.</param>
/// <param name="RemotePath">The remote path.</param>
public sealed record TransferItem(string LocalPath, string RemotePath)
{
    /// <summary>
    /// In a batch put to a server with <see cref="Capabilities.DirectoryTimes"/>: the time the file's remote directory is
    /// to end with once the file is in it (sent as ParentMTime); null to leave the directory's time as the put makes it.
    /// </summary>
    public DateTimeOffset? ParentModified { get; init; }
}
