using System.Globalization;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;

namespace FileXfer.Client.Tests.Trees;

/// <summary>
/// A server whose tree is generated, not stored: <c>tree/</c> holds <see cref="Directories"/> directories of
/// <see cref="FilesPerDirectory"/> files each, listed one directory at a time as the protocol says, so a test can
/// walk millions of entries without creating them. Optional quirks: a directory that vanishes (listed by its parent,
/// NotFound when listed itself) and a directory whose listing names one file twice.
/// </summary>
internal sealed class GeneratedTreeServer : IAsyncDisposable
{
    private static readonly DateTimeOffset Time = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);
    private readonly HostileServer _server;

    public GeneratedTreeServer(int directories, int filesPerDirectory, string? vanishing = null, string? duplicating = null)
    {
        Directories = directories;
        FilesPerDirectory = filesPerDirectory;
        _server = new HostileServer(
            (connection, request, token) => RespondAsync(connection, request, vanishing, duplicating, token),
            Capabilities.Trees | Capabilities.Pipelining | Capabilities.ChunkedBody);
    }

    public int Directories { get; }

    public int FilesPerDirectory { get; }

    public string Address => _server.Address;

    public FileXfer.Protocol.Net.HostPort EndPoint => _server.EndPoint;

    public static string DirectoryName(int i) => string.Create(CultureInfo.InvariantCulture, $"d{i:D5}");

    public static string FileName(int i) => string.Create(CultureInfo.InvariantCulture, $"f{i:D5}.bin");

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task RespondAsync(HostileConnection connection, Frame request, string? vanishing, string? duplicating, CancellationToken token)
    {
        var path = request.GetString(FieldTag.Path);
        switch (request.Type)
        {
            case MessageType.Stat:
                await connection.Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, new RemoteEntry(path, EntryKind.Directory, 0, Time, 0x1ED)), token);
                break;
            case MessageType.List when path == "tree":
                for (int i = 0; i < Directories; i++)
                {
                    await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, new RemoteEntry(DirectoryName(i), EntryKind.Directory, 0, Time, 0x1ED)), token);
                }

                await connection.Writer.WriteAsync(Messages.EndOfList(request.RequestId, Directories), token);
                break;
            case MessageType.List when path == "tree/" + vanishing:
                await connection.Writer.WriteAsync(Messages.Error(request.RequestId, ErrorCode.NotFound, $"'{path}' not found"), token);
                break;
            case MessageType.List:
                int count = FilesPerDirectory;
                for (int i = 0; i < FilesPerDirectory; i++)
                {
                    await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, new RemoteEntry(FileName(i), EntryKind.File, 4096 + i, Time, 0x1A4)), token);
                }

                if (path == "tree/" + duplicating)
                {
                    await connection.Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, new RemoteEntry(FileName(0), EntryKind.File, 1, Time, 0x1A4)), token);
                    count++;
                }

                await connection.Writer.WriteAsync(Messages.EndOfList(request.RequestId, count), token);
                break;
            default:
                await connection.Writer.WriteAsync(Messages.Error(request.RequestId, ErrorCode.BadRequest, $"not served here: {request.Type}"), token);
                break;
        }
    }
}
