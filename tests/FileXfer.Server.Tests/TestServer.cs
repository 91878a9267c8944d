using System.Net;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;
using FileXfer.Server.Storage;

namespace FileXfer.Server.Tests;

/// <summary>A real <see cref="TcpServer"/> on 127.0.0.1:0 serving a fresh temp root with the protocol handler.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private TestServer(TempDirectory directory, FileStore store, TcpServer server, CapturingLogger logger)
    {
        _directory = directory;
        Store = store;
        Server = server;
        Logger = logger;
        EndPoint = server.LocalEndPoint;
        Serving = server.ServeForeverAsync(CancellationToken.None);
    }

    public FileStore Store { get; }

    public TcpServer Server { get; }

    public CapturingLogger Logger { get; }

    /// <summary>The bound endpoint, kept from the start: the server forgets it once stopped.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The accept loop.</summary>
    public Task Serving { get; }

    public static TestServer Start(FileXferHandlerOptions? handlerOptions = null, TcpServerOptions? serverOptions = null, FileStoreOptions? storeOptions = null)
    {
        var directory = new TempDirectory();
        try
        {
            var store = new FileStore(directory.CreateDirectory("root"), storeOptions);
            var logger = new CapturingLogger();
            var options = handlerOptions ?? new FileXferHandlerOptions();
            var server = new TcpServer(
                new IPEndPoint(IPAddress.Loopback, 0),
                context => new FileXferRequestHandler(context, store, options, logger),
                logger,
                serverOptions);
            server.Start();
            return new TestServer(directory, store, server, logger);
        }
        catch (Exception)
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>The local path of a remote path.</summary>
    public string LocalPath(string remote) => Path.Combine(Store.Root, remote);

    /// <summary>The temp files now in the staging area.</summary>
    public string[] StagedFiles() => Directory.GetFiles(Store.StagingDirectory);

    /// <summary>
    /// The temp files of uploads not yet published: named ones in the staging area, and unnamed ones (O_TMPFILE) below
    /// the root that this process still holds open, as <c>/proc/self/fd</c> shows them (<c>dir/#inode (deleted)</c>).
    /// </summary>
    public string[] TempFiles() => [.. StagedFiles(), .. UnnamedFiles()];

    /// <summary>The unnamed temp files below the root that this process holds open (Linux; none elsewhere).</summary>
    public string[] UnnamedFiles()
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }

        var found = new List<string>();
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                // Closed while the directory was read.
                continue;
            }

            if (target is not null && target.StartsWith(Store.Root + "/", StringComparison.Ordinal) && target.EndsWith(" (deleted)", StringComparison.Ordinal)
                && Path.GetFileName(target).StartsWith('#'))
            {
                found.Add(target);
            }
        }

        return [.. found];
    }

    public Task<RawClient> ConnectAsync(CancellationToken cancellationToken) => RawClient.ConnectAsync(EndPoint, cancellationToken);

    /// <summary>A connection that has completed the handshake.</summary>
    public async Task<RawClient> ConnectReadyAsync(CancellationToken cancellationToken)
    {
        var client = await ConnectAsync(cancellationToken);
        try
        {
            await client.HandshakeAsync(cancellationToken);
            return client;
        }
        catch (Exception)
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <paramref name="count"/> connections have been closed by the server.</summary>
    public Task WaitForClosedConnectionsAsync(int count, CancellationToken cancellationToken) =>
        Logger.WaitForEventAsync(ServerEvents.ConnectionClosed, count, TimeSpan.FromSeconds(5), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Server.DisposeAsync();
            await Serving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            _directory.Dispose();
        }
    }
}
