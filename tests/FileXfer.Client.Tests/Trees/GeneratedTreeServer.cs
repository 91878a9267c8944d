using System.Globalization;
using System.Net;
using FileXfer.Protocol.Net;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;

namespace FileXfer.Client.Tests.Trees;

/// <summary>
/// The real server (<see cref="TcpServer"/> and <see cref="FileXferRequestHandler"/>) over a <see cref="GeneratedStore"/>:
/// <c>tree/</c> holds <see cref="Directories"/> directories of <see cref="FilesPerDirectory"/> files each, generated as
/// they are listed, so a test can walk millions of entries through the real client and server code without storing
/// them. Disposing stops the server and fails if it logged an error.
/// </summary>
internal sealed class GeneratedTreeServer : IAsyncDisposable
{
    private readonly TcpServer _server;
    private readonly Task _serving;

    public GeneratedTreeServer(int directories, int filesPerDirectory, string? vanishing = null, string? duplicating = null)
    {
        Directories = directories;
        FilesPerDirectory = filesPerDirectory;
        var store = new GeneratedStore(directories, filesPerDirectory, vanishing, duplicating);
        _server = new TcpServer(
            new IPEndPoint(IPAddress.Loopback, 0),
            context => new FileXferRequestHandler(context, store, new FileXferHandlerOptions(), Log),
            Log,
            new TcpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(5) });
        _server.Start();
        var bound = _server.LocalEndPoint;
        EndPoint = new HostPort(bound.Address.ToString(), bound.Port);
        _serving = _server.ServeForeverAsync(CancellationToken.None);
    }

    public int Directories { get; }

    public int FilesPerDirectory { get; }

    /// <summary>What the server logged.</summary>
    public RecordingLogger Log { get; } = new();

    public HostPort EndPoint { get; }

    public string Address => $"{EndPoint.Host}:{EndPoint.Port}";

    public static string DirectoryName(int i) => string.Create(CultureInfo.InvariantCulture, $"d{i:D5}");

    public static string FileName(int i) => string.Create(CultureInfo.InvariantCulture, $"f{i:D5}.bin");

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        await _serving;
        await _server.DisposeAsync();
        Log.ThrowIfErrorsLogged();
    }
}
