using System.Security.Cryptography;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// One upload in progress: a temp file that becomes the real file only through its commit (<see cref="GroupCommit"/>), either named
/// in the staging area or unnamed in its destination's directory (<c>O_TMPFILE</c>). Disposing an upload that was not
/// committed deletes its temp file, so a failed or aborted put leaves the old file as it was.
/// </summary>
public sealed class PendingUpload : IUpload
{
    private readonly UploadPublisher _publisher;
    private readonly InlineFileStream _file;
    private readonly LatchingWriteStream _sink;
    private readonly Action _release;
    private readonly DirectoryHandles? _directories;

    // For a resumable partial: the bytes a resume may be offered, and those known to be on disk (DurablePrefix).
    private readonly long _held;
    private readonly long _durable;
    private bool _committed;
    private bool _discard;

    internal PendingUpload(UploadPublisher publisher, string path, string destination, string? tempPath, InlineFileStream file, long? expectedSize, Action release, DirectoryHandles? directories, ulong device)
    {
        _release = release;
        _directories = directories;
        Device = device;
        _publisher = publisher;
        Path = path;
        Destination = destination;
        TempPath = tempPath;
        _file = file;
        _sink = new LatchingWriteStream(IsResumable ? new CheckpointStream(file) : file);
        (_held, _durable) = IsResumable ? DurablePrefix.Claim(file.Handle, file.Length) : (0, 0);
        ExpectedSize = expectedSize;
    }

    /// <summary>The normalized remote path.</summary>
    public string Path { get; }

    /// <summary>The local path the file will have once committed.</summary>
    public string Destination { get; }

    /// <summary>
    /// The temp file in the staging area; null for an unnamed file in the destination's directory, which gets its
    /// name only when it is published (and which a crash leaves nowhere).
    /// </summary>
    public string? TempPath { get; }

    /// <summary>True when the temp file is a partial kept for resuming (see <see cref="FileStore.BeginUpload(string, long?, long, byte[], DirectoryHandles, bool)"/>).</summary>
    public bool IsResumable => TempPath?.EndsWith(".resume", StringComparison.Ordinal) == true;

    /// <summary>
    /// Cancelled when another upload of the same resume key and path takes this one's partial over: the upload is
    /// then abandoned, and disposing it lets go of the partial, kept as it is, for the other one to continue. Never
    /// cancelled for an upload that is not resumable.
    /// </summary>
    public CancellationToken Revoked { get; internal init; }

    /// <summary>The file system the temp file is on, so a group is flushed with one <c>syncfs</c> per file system; 0 when unknown.</summary>
    internal ulong Device { get; }

    /// <summary>
    /// The bytes a resumable upload already holds from an earlier attempt: those known to be on disk, so that what a
    /// power loss took is not offered (see <see cref="DurablePrefix"/>).
    /// </summary>
    public long HeldBytes => _held;

    /// <summary>Hashes the first <paramref name="count"/> held bytes into <paramref name="hasher"/>, the proof a resuming client checks.</summary>
    public async Task HashPrefixAsync(long count, ContentHasher hasher, CancellationToken cancellationToken)
    {
        _file.Position = 0;
        await BodyCopier.CopyExactlyAsync(_file, Stream.Null, count, hasher, progress: null, cancellationToken);
    }

    /// <summary>Drops everything past <paramref name="offset"/> and makes the body continue there.</summary>
    public void ContinueAt(long offset)
    {
        if (IsResumable)
        {
            // Before any byte is written: what is on disk below the offset, in this boot (see DurablePrefix).
            DurablePrefix.Lower(_file.Handle, Math.Min(_durable, offset));
        }

        _file.SetLength(offset);
        _file.Position = offset;
    }

    /// <summary>The declared size; null for a chunked body of unknown length.</summary>
    public long? ExpectedSize { get; }

    /// <summary>
    /// Where the body is written. A write failure (a full disk) is remembered and the rest of the body is
    /// dropped, so the connection stays in step; its commit then reports the failure.
    /// </summary>
    public Stream Body => _sink;

    /// <summary>
    /// Checks that the upload is complete and verified (no write failure, the declared size, the sender's hash)
    /// and gives the temp file its time and mode. The file is not yet durable nor visible under its name.
    /// </summary>
    /// <exception cref="FileXferException">The upload cannot be committed; disposing it removes the temp file.</exception>
    /// <param name="receivedLength">The bytes received.</param>
    /// <param name="receivedHash">Their hash, computed here.</param>
    /// <param name="senderHash">The sender's hash of them.</param>
    /// <param name="modified">The time the file gets, when given.</param>
    /// <param name="mode">The permission bits it gets, when given.</param>
    /// <param name="algorithm">The hash algorithm, to record the verified hash beside the file (<see cref="StoredHash"/>), when given.</param>
    /// <param name="parentModified">The time its directory gets right after the file gets its name (<see cref="UploadPublisher.Publish"/>), when given.</param>
    public void Seal(long receivedLength, byte[] receivedHash, byte[] senderHash, DateTimeOffset? modified, int? mode, string? algorithm, DateTimeOffset? parentModified = null)
    {
        ArgumentNullException.ThrowIfNull(receivedHash);
        ArgumentNullException.ThrowIfNull(senderHash);

        // Until the checks pass, the held bytes are suspect: a failed seal must not leave them for a resume.
        _discard = true;
        if (_sink.Failure is { } failure)
        {
            throw failure is IOException io && DiskFull.Is(io)
                ? new FileXferException(ErrorCode.InsufficientStorage, "no space left on the server's storage", failure)
                : new FileXferException(ErrorCode.Internal, $"writing the upload failed: {failure.Message}", failure);
        }

        if (ExpectedSize is { } declared && receivedLength != declared)
        {
            throw new FileXferException(ErrorCode.SizeMismatch, $"received {receivedLength} bytes, {declared} declared");
        }

        if (!CryptographicOperations.FixedTimeEquals(receivedHash, senderHash))
        {
            throw new FileXferException(ErrorCode.IntegrityMismatch, $"hash of the received bytes does not match the sender's for '{RemotePath.Escape(Path)}'");
        }

        StorageErrors.Wrap(Path, () =>
        {
            if (_file.Length != receivedLength)
            {
                throw new FileXferException(ErrorCode.SizeMismatch, $"stored {_file.Length} bytes, {receivedLength} received");
            }

            // Through the open handle (futimens, fchmod): the temp file is this upload's alone.
            if (modified is { } time)
            {
                if (OperatingSystem.IsLinux())
                {
                    Posix.SetModifiedTime(_file.Handle, time);
                }
                else
                {
                    File.SetLastWriteTimeUtc(_file.Handle, time.UtcDateTime);
                }
            }

            if (!OperatingSystem.IsWindows())
            {
                // Only permission bits; the owner keeps read and write so the server can serve and replace it.
                // Without a mode (a stream from standard input), the usual rw-r--r--.
                const int DefaultMode = 0x1A4; // 0644
                File.SetUnixFileMode(_file.Handle, (UnixFileMode)((mode ?? DefaultMode) & 0x1FF) | UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            if (algorithm is not null)
            {
                StoredHash.Record(_file.Handle, algorithm, receivedHash, receivedLength);
            }

            return true;
        });
        Size = receivedLength;
        ParentModified = parentModified;
        _discard = false;
    }

    /// <summary>The size of the sealed file.</summary>
    public long Size { get; private set; }

    /// <summary>The time the file's directory is given right after the file gets its name (the Put's ParentMTime), if any.</summary>
    internal DateTimeOffset? ParentModified { get; private set; }

    /// <inheritdoc />
    public string? ParentTimeFailure { get; internal set; }

    /// <summary>The connection's kept directory handles this upload is checked and published through, if any.</summary>
    internal DirectoryHandles? Directories => _directories;

    /// <summary>The open temp file, for syncing it to disk.</summary>
    internal InlineFileStream TempFile => _file;

    /// <summary>
    /// Gives the durable temp file its destination's name: a named one is renamed over it, an unnamed one linked in (or,
    /// over an existing file, linked into the staging area and renamed over it). Returns the directory that now holds
    /// it (its remote path and its real local path), which must be synced for the name itself to be durable.
    /// </summary>
    internal (string Directory, string LocalDirectory) Publish()
    {
        // An unnamed file stays open until it has its name: closing it would delete it.
        if (TempPath is not null)
        {
            _file.Dispose();
        }

        try
        {
            var published = _publisher.Publish(this);
            _committed = true;
            return published;
        }
        finally
        {
            _file.Dispose();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_committed && IsResumable && !_discard)
        {
            // Kept for a resume: on disk first, so a power loss before the retry does not cost it.
            DurablePrefix.Advance(_file, _file.Length);
        }

        await _file.DisposeAsync();
        try
        {
            if (!_committed && TempPath is not null && !(IsResumable && !_discard))
            {
                DeleteTemp();
            }
        }
        finally
        {
            _release();
        }
    }

    private void DeleteTemp()
    {
        try
        {
            System.IO.File.Delete(TempPath!);
        }
        catch (IOException)
        {
            // Left for the stale-upload sweep at the next start; the real name was never touched.
        }
    }
}
