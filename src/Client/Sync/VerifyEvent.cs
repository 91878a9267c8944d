namespace FileXfer.Client.Sync;

/// <summary>The verification outcome of one file.</summary>
/// <param name="Status">What was found.</param>
/// <param name="LocalPath">The local file (or manifest entry), when there is one.</param>
/// <param name="RemotePath">The remote path.</param>
/// <param name="HashAlgorithm">The algorithm both sides hashed with.</param>
/// <param name="LocalHashHex">The local (or manifest) hash.</param>
/// <param name="RemoteHashHex">The server's hash.</param>
/// <param name="Error">Why a side could not be hashed.</param>
public sealed record VerifyEvent(VerifyStatus Status, string? LocalPath, string RemotePath, string HashAlgorithm, string? LocalHashHex, string? RemoteHashHex, Exception? Error);
