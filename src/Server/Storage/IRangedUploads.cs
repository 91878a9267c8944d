using FileXfer.Protocol.Hashing;

namespace FileXfer.Server.Storage;

/// <summary>
/// The optional capability of a store session that can take one file as ranges over several connections at once
/// (<see cref="Capabilities.ParallelStreams"/>): every range is written in place into one partial file, and the file
/// is named only through <see cref="AssembleAsync"/> and the session's commit. A server whose store session lacks
/// it does not announce the capability.
/// </summary>
public interface IRangedUploads
{
    /// <summary>
    /// Starts (or resumes) one range of the ranged upload <paramref name="start"/> names: checks the path, the size,
    /// the space and the range (within the file, and either new and overlapping no other range of the upload, or
    /// exactly one of its ranges again). A range still held by another connection is taken over from it, waiting at
    /// most <paramref name="wait"/> on <paramref name="timeProvider"/>.
    /// </summary>
    /// <exception cref="Protocol.FileXferException">The range cannot be taken (BadRequest for a range out of bounds or overlapping another).</exception>
    ValueTask<IRangeUpload> BeginRangeAsync(RangeStart start, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the ranged upload <paramref name="start"/> names: every byte of the file must be in a verified range.
    /// Returns the assembled file as an upload ready to be sealed, and the store's hash of the whole file (with
    /// <paramref name="start"/>'s algorithm). The upload is then no longer open to ranges.
    /// </summary>
    /// <exception cref="Protocol.FileXferException">BadRequest: no such upload, or a part of the file is in no verified range.</exception>
    ValueTask<(IUpload Upload, byte[] Hash)> AssembleAsync(RangeStart start, CancellationToken cancellationToken);
}

/// <summary>One range of a ranged upload in progress: the body goes in place into the upload's one partial file.</summary>
public interface IRangeUpload : IAsyncDisposable
{
    /// <summary>The range, within its file.</summary>
    FileRange Range { get; }

    /// <summary>The bytes of the range already held, from its start, from an earlier attempt.</summary>
    long HeldBytes { get; }

    /// <summary>Cancelled when another connection takes this range over: the range's body is then abandoned.</summary>
    CancellationToken Revoked { get; }

    /// <summary>Hashes the first <paramref name="count"/> held bytes of the range, the proof a resuming client checks.</summary>
    Task HashPrefixAsync(long count, ContentHasher hasher, CancellationToken cancellationToken);

    /// <summary>Drops what the range holds past <paramref name="offset"/> (within the range) and makes the body continue there.</summary>
    void ContinueAt(long offset);

    /// <summary>Where the rest of the range's body is written; a write failure is remembered and the rest dropped.</summary>
    Stream Body { get; }

    /// <summary>
    /// Marks the range verified when no write failed and <paramref name="receivedHash"/> (of the whole range, computed
    /// on receipt) equals <paramref name="senderHash"/>; otherwise the range is emptied and the error thrown.
    /// </summary>
    /// <exception cref="Protocol.FileXferException">IntegrityMismatch, or the write failure.</exception>
    void Complete(byte[] receivedHash, byte[] senderHash);
}

/// <summary>What a ranged upload is, as each of its requests names it.</summary>
/// <param name="Path">The remote path.</param>
/// <param name="Size">The whole file's size.</param>
/// <param name="Algorithm">The hash algorithm of the ranges and of the whole file.</param>
/// <param name="TransferId">The client's name for the transfer.</param>
/// <param name="Range">The range a Put carries; the default (empty) for Assemble.</param>
public readonly record struct RangeStart(string Path, long Size, string Algorithm, byte[] TransferId, FileRange Range);
