using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Storage;

/// <summary>
/// One upload in progress: the body is written to <see cref="Body"/>, the upload is sealed when verified, and it
/// becomes the real file only through its session's commit. Disposing an upload that was not committed drops what
/// it holds (except a resumable partial, kept for the retry), so a failed put leaves the old file as it was.
/// </summary>
public interface IUpload : IAsyncDisposable
{
    /// <summary>The normalized remote path.</summary>
    string Path { get; }

    /// <summary>True when the upload continues a partial kept for its resume key, whose held bytes may be offered.</summary>
    bool IsResumable { get; }

    /// <summary>The bytes a resumable upload already holds from an earlier attempt.</summary>
    long HeldBytes { get; }

    /// <summary>
    /// Cancelled when another upload of the same resume key takes this one's partial over: the upload is then
    /// abandoned. Never cancelled for an upload that is not resumable.
    /// </summary>
    CancellationToken Revoked { get; }

    /// <summary>Hashes the first <paramref name="count"/> held bytes into <paramref name="hasher"/>, the proof a resuming client checks.</summary>
    Task HashPrefixAsync(long count, ContentHasher hasher, CancellationToken cancellationToken);

    /// <summary>Drops everything past <paramref name="offset"/> and makes the body continue there.</summary>
    void ContinueAt(long offset);

    /// <summary>
    /// Where the body is written. A write failure (a full disk) is remembered and the rest of the body dropped, so
    /// the connection stays in step; <see cref="Seal"/> then reports it.
    /// </summary>
    Stream Body { get; }

    /// <summary>
    /// Checks that the upload is complete and verified (no write failure, the declared size, the sender's hash equal
    /// to the one computed on receipt) and gives it its time and mode; records the verified hash with it. Not yet
    /// durable nor visible under its name. <paramref name="parentModified"/> (the request's ParentMTime) is the time
    /// its directory is to be given right after the upload gets its name, where the store's directories have times
    /// that entries change (<see cref="IStoreSession.SetsParentTimes"/>); other stores ignore it.
    /// </summary>
    /// <exception cref="Protocol.FileXferException">The upload cannot be committed.</exception>
    void Seal(long receivedLength, byte[] receivedHash, byte[] senderHash, DateTimeOffset? modified, int? mode, string algorithm, DateTimeOffset? parentModified = null);

    /// <summary>The size of the sealed upload.</summary>
    long Size { get; }

    /// <summary>
    /// After a commit that gave the upload its name: why its directory could not be given the parent time of
    /// <see cref="Seal"/> (it keeps the time the name gave it); null when that time was set or none was asked. Read
    /// after <see cref="IStoreSession.CommitAsync"/>, which disposes the upload.
    /// </summary>
    string? ParentTimeFailure { get; }
}
