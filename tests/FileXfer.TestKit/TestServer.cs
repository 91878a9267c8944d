using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using FileXfer.Server.Storage;
using FileXfer.Server.Storage.Local;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;

namespace FileXfer.TestKit;

/// <summary>
/// The real server in-process: a <see cref="FileStore"/> over a fresh temp root and a <see cref="TcpServer"/> on
/// 127.0.0.1:0 serving the protocol handler in the background. The root is the only entry of a private sandbox
/// directory, so a test can check that nothing was written beside it. Disposing stops the server, deletes the sandbox,
/// and fails if the server logged an error (an unexpected failure inside a request is a server bug, whatever the test
/// was about).
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly TempDirectory _sandbox;

    public TestServer()
        : this(root: null)
    {
    }

    /// <summary>A server on a fresh temp root that accepts only TLS, with <paramref name="tls"/>.</summary>
    public TestServer(X509Certificate2 tls)
        : this(root: null, options: null, tls)
    {
    }

    /// <summary>A server over <paramref name="root"/> (a directory the test owns, such as a small file system), or a fresh temp root.</summary>
    /// <param name="root">The root directory, or null for a fresh one.</param>
    /// <param name="options">The store's settings.</param>
    /// <param name="tls">When given, the server accepts only TLS, with this certificate.</param>
    /// <param name="handlerOptions">The handler's settings (TLS is set from <paramref name="tls"/>).</param>
    /// <param name="serverOptions">The host's settings (its clock among them); by default a 5 s shutdown deadline.</param>
    /// <param name="served">What the handler serves, made from the file store (a <see cref="HeldReadStore"/> over it, say); by default the file store itself.</param>
    public TestServer(string? root, FileStoreOptions? options = null, X509Certificate2? tls = null, FileXferHandlerOptions? handlerOptions = null, TcpServerOptions? serverOptions = null, Func<FileStore, IStore>? served = null)
    {
        _sandbox = new TempDirectory("filexfer-server");
        try
        {
            Store = new FileStore(root ?? _sandbox.CreateDirectory("root"), options);
            var servedStore = served?.Invoke(Store) ?? Store;
            handlerOptions ??= new FileXferHandlerOptions();
            if (tls is not null)
            {
                handlerOptions.Tls = SslStreamCertificateContext.Create(tls, additionalCertificates: null, offline: true);
            }

            Server = new TcpServer(
                new IPEndPoint(IPAddress.Loopback, 0),
                context => new FileXferRequestHandler(context, servedStore, handlerOptions, Log),
                Log,
                serverOptions ?? new TcpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(5) });
            Server.Start();
        }
        catch (Exception)
        {
            _sandbox.Dispose();
            throw;
        }

        EndPoint = Server.LocalEndPoint;
        Serving = Server.ServeForeverAsync(CancellationToken.None);
    }

    /// <summary>What the server logged.</summary>
    public RecordingLogger Log { get; } = new();

    /// <summary>The store the server serves.</summary>
    public FileStore Store { get; }

    /// <summary>The host.</summary>
    public TcpServer Server { get; }

    /// <summary>The accept loop.</summary>
    public Task Serving { get; }

    /// <summary>The bound endpoint, kept from the start: the server forgets it once stopped.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The bound port.</summary>
    public int Port => EndPoint.Port;

    /// <summary>The server's address as the client takes it: <c>127.0.0.1:PORT</c>.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>The real path of the server's root directory.</summary>
    public string Root => Store.Root;

    /// <summary>The directory that holds the root and nothing else, unless something escaped the root.</summary>
    public string Sandbox => Path.GetDirectoryName(Root)!;

    /// <summary>Where the server stages uploads until they are committed.</summary>
    public string StagingDirectory => Store.StagingDirectory;

    /// <summary>The local path of a remote path under the root.</summary>
    public string PathOf(string remotePath) => Path.Combine([Root, .. remotePath.Split('/', StringSplitOptions.RemoveEmptyEntries)]);

    /// <summary>The temp files now in the staging area.</summary>
    public string[] StagedFiles() => Directory.GetFiles(StagingDirectory);

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

            if (target is not null && target.StartsWith(Root + "/", StringComparison.Ordinal) && target.EndsWith(" (deleted)", StringComparison.Ordinal)
                && Path.GetFileName(target).StartsWith('#'))
            {
                found.Add(target);
            }
        }

        return [.. found];
    }

    /// <summary>Waits until <paramref name="count"/> connections have been closed by the server.</summary>
    public Task WaitForClosedConnectionsAsync(int count, CancellationToken cancellationToken) =>
        Log.WaitForEventAsync(ServerEvents.ConnectionClosed, count, TimeSpan.FromSeconds(10), cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Server.StopAsync();
            await Serving;
            await Server.DisposeAsync();
        }
        finally
        {
            _sandbox.Dispose();
        }

        Log.ThrowIfErrorsLogged();
    }
}
