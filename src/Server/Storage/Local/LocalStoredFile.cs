using System.Net.Sockets;

namespace FileXfer.Server.Storage.Local;

/// <summary>A stored file opened on the local disk: read through its handle, its verified hash in an xattr beside it.</summary>
internal sealed class LocalStoredFile(InlineFileStream file, RemoteEntry entry) : IStoredFile
{
    public RemoteEntry Entry { get; } = entry;

    // The size is taken once, from the open file, and exactly that many bytes are sent.
    public long Length { get; } = file.Length;

    public Stream Content => file;

    public byte[]? StoredHash(string algorithm) => Local.StoredHash.Lookup(file.Handle, algorithm, Length);

    public bool CanSendDirectly => OperatingSystem.IsLinux();

    public Task SendToAsync(Socket socket, long offset, long count, TimeSpan? stallTimeout, TimeProvider timeProvider, CancellationToken cancellationToken) =>
        FileSender.SendAsync(socket, file.File, offset, count, stallTimeout, timeProvider, cancellationToken);

    public ValueTask DisposeAsync() => file.DisposeAsync();
}
