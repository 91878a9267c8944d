namespace FileXfer.Client;

/// <summary>One file of a batch transfer.</summary>
/// <param name="LocalPath">The local file.</param>
/// <param name="RemotePath">The remote path.</param>
public sealed record TransferItem(string LocalPath, string RemotePath);
