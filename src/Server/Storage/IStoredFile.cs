using System.Net.Sockets;

namespace FileXfer.Server.Storage;

/// <summary>A stored file opened to be sent or hashed: its size is fixed when it is opened.</summary>
public interface IStoredFile : IAsyncDisposable
{
    /// <summary>What the file is, as opened.</summary>
    RemoteEntry Entry { get; }

    /// <summary>The bytes to send: exactly this many, whatever happens to the file meanwhile.</summary>
    long Length { get; }

    /// <summary>The content, readable from its start and seekable.</summary>
    Stream Content { get; }

    /// <summary>
    /// The hash recorded when the file was stored and verified, when there is one for <paramref name="algorithm"/>
    /// that still matches the file's size; null otherwise. Sending it saves hashing the file again, and lets the
    /// client catch a file that rotted at rest.
    /// </summary>
    byte[]? StoredHash(string algorithm);

    /// <summary>True when <see cref="SendToAsync"/> can send the content without it passing through this process.</summary>
    bool CanSendDirectly { get; }

    /// <summary>Sends <paramref name="count"/> bytes from <paramref name="offset"/> straight to a plain TCP socket (sendfile).</summary>
    /// <exception cref="EndOfStreamException">The file ended early: the connection is in the middle of a body.</exception>
    Task SendToAsync(Socket socket, long offset, long count, TimeSpan? stallTimeout, TimeProvider timeProvider, CancellationToken cancellationToken);
}
