namespace FileXfer.Server.Storage;

/// <summary>What an upload is to be, as its Put request says.</summary>
/// <param name="Path">The remote path.</param>
/// <param name="DeclaredSize">The body's size when the request says it; null for a chunked body of unknown length.</param>
/// <param name="SizeHint">The size to check the free space against when none is declared.</param>
/// <param name="ResumeKey">The client's key for a resumable upload, whose partial a retry may continue; null otherwise.</param>
/// <param name="BodyFollows">
/// True when the body follows the request at once (a pipelined put): checks that would only slow the common case
/// down may wait until the commit, which makes them in any case.
/// </param>
public readonly record struct UploadStart(string Path, long? DeclaredSize, long SizeHint, byte[]? ResumeKey, bool BodyFollows);
