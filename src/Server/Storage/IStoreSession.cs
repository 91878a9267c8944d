namespace FileXfer.Server.Storage;

/// <summary>
/// One connection's view of a store: every request of the protocol as one call. Paths are remote paths below the
/// session's root, not yet normalized; every failure a client should hear about is a
/// <see cref="Protocol.FileXferException"/> with its code.
/// </summary>
public interface IStoreSession : IAsyncDisposable
{
    /// <summary>The largest file the store accepts.</summary>
    long MaxFileSize { get; }

    /// <summary>
    /// True once a later connection of this session's client run declared this one abandoned
    /// (<see cref="JoinRunAsync"/>): nothing more it carries may take effect.
    /// </summary>
    bool IsAbandoned { get; }

    /// <summary>
    /// Places the session's connection in its client's run, as its Hello told (see <see cref="RunTicket"/>), within
    /// <paramref name="scope"/> (the token): the earlier connections the ticket declares abandoned are fenced, so
    /// from the moment this returns no upload of theirs is committed; and this session commits nothing once a later
    /// connection declares it abandoned. Called before the handshake is answered, so it precedes every request of
    /// the connection.
    /// </summary>
    ValueTask JoinRunAsync(string scope, RunTicket ticket, CancellationToken cancellationToken);

    /// <summary>Describes one path.</summary>
    ValueTask<RemoteEntry> StatAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// A directory's entries (or, <paramref name="recursive"/>, its whole tree, parents before children, each named by
    /// its path below <paramref name="path"/>), sorted by name within each directory. Streams: a bad path fails at the
    /// first <c>MoveNextAsync</c>, before any entry; what is held at once is bounded by one directory, not the tree.
    /// </summary>
    IAsyncEnumerable<ListedEntry> ListAsync(string path, bool recursive, CancellationToken cancellationToken);

    /// <summary>
    /// True when the store's directories have times that adding an entry changes, and it honours a request's
    /// ParentMTime (<see cref="MakeDirectoryAsync"/>'s <c>parentModified</c>, <see cref="IUpload.Seal"/>'s): the server
    /// then announces <see cref="Protocol.Framing.Capabilities.DirectoryTimes"/>.
    /// </summary>
    bool SetsParentTimes { get; }

    /// <summary>
    /// Creates a directory with its parents, or sets the time and mode of an existing one; describes it. With
    /// <paramref name="parentModified"/> (where <see cref="SetsParentTimes"/>), its parent directory is then given
    /// that time; when that fails the directory is still made, and the result says why the time was not set.
    /// </summary>
    ValueTask<MadeDirectory> MakeDirectoryAsync(string path, DateTimeOffset? modified, int? mode, DateTimeOffset? parentModified, CancellationToken cancellationToken);

    /// <summary>Deletes a file or an empty directory; describes what was deleted.</summary>
    ValueTask<RemoteEntry> DeleteAsync(string path, CancellationToken cancellationToken);

    /// <summary>Opens a stored file to be sent or hashed.</summary>
    ValueTask<IStoredFile> OpenReadAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the partial upload of this resume key and path over from another upload that still holds it (a client
    /// reconnecting before the server noticed its old connection gone): the holder is revoked
    /// (<see cref="IUpload.Revoked"/>) and this waits, at most <paramref name="wait"/> on
    /// <paramref name="timeProvider"/>, until it let go. Nothing happens when no one holds it.
    /// </summary>
    Task TakeOverResumeKeyAsync(byte[] resumeKey, string path, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken);

    /// <summary>
    /// Starts an upload: checks the path, the size and the space, and prepares where the body goes. Nothing is
    /// visible under the real name until the upload is sealed and committed (<see cref="CommitAsync"/>).
    /// </summary>
    ValueTask<IUpload> BeginUploadAsync(UploadStart start, CancellationToken cancellationToken);

    /// <summary>
    /// Makes sealed uploads durable and visible under their names, all before this returns: a client is answered
    /// "stored" only after it. An upload of a session declared abandoned gets no name. Returns, per upload, null or
    /// why it failed; every upload is disposed.
    /// </summary>
    ValueTask<IReadOnlyList<Protocol.FileXferException?>> CommitAsync(IReadOnlyList<IUpload> uploads, CancellationToken cancellationToken);
}
