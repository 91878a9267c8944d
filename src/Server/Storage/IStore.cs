namespace FileXfer.Server.Storage;

/// <summary>
/// Where a server keeps the files it serves: a directory on a local disk (<see cref="Local.FileStore"/>) or, in
/// time, an object store. The handler knows only this seam: it opens a session per connection and does everything
/// through it; how a name, a directory, a temp file or a durable commit is made is the store's own business.
/// </summary>
public interface IStore
{
    /// <summary>The largest file this store accepts, announced to clients in the handshake.</summary>
    long MaxFileSize { get; }

    /// <summary>
    /// A session for one connection, seeing <paramref name="subtree"/> (a remote path; empty for the whole store)
    /// as its root. A session may keep state between requests (open directories, say) and must be disposed.
    /// </summary>
    /// <exception cref="Protocol.FileXferException">The subtree is not a valid path, or cannot be made a root.</exception>
    IStoreSession OpenSession(string subtree);
}
