using System.Net.Sockets;
using Amazon.S3.Model;

namespace FileXfer.Server.Storage.S3;

/// <summary>An object opened to be sent or hashed: read by ranged GETs of the version seen at the open (its ETag).</summary>
internal sealed class S3StoredFile(S3Store store, string key, string etag, RemoteEntry entry, MetadataCollection metadata) : IStoredFile
{
    private readonly S3ReadStream _content = new(store, key, etag, entry.Size);

    public RemoteEntry Entry { get; } = entry;

    public long Length => Entry.Size;

    public Stream Content => _content;

    public byte[]? StoredHash(string algorithm) => S3Metadata.HashOf(metadata, algorithm, Length);

    // The bytes come from the object store over HTTP: they pass through this process.
    public bool CanSendDirectly => false;

    public Task SendToAsync(Socket socket, long offset, long count, TimeSpan? stallTimeout, TimeProvider timeProvider, CancellationToken cancellationToken) =>
        throw new NotSupportedException("an object is sent through Content");

    public ValueTask DisposeAsync() => _content.DisposeAsync();
}
