using System.Net;
using System.Security.Cryptography.X509Certificates;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;
using FileXfer.Server.Storage;
using Microsoft.Extensions.Logging;

namespace FileXfer.Client.Tests;

/// <summary>
/// The real server in-process: a <see cref="FileStore"/> over a fresh temp root and a <see cref="TcpServer"/> on
/// 127.0.0.1:0 serving in the background. The root is the only entry of a private sandbox directory, so a test can
/// check that nothing was written beside it. Disposing stops the server, fails if the server logged an error (an
/// unexpected failure inside a request is a server bug whatever the test was about), and deletes the sandbox.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly TempDirectory _sandbox;
    private readonly TcpServer _server;
    private readonly Task _serving;

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
    public TestServer(string? root, FileStoreOptions? options = null, X509Certificate2? tls = null, FileXferHandlerOptions? handlerOptions = null)
    {
        _sandbox = new TempDirectory("filexfer-server");
        Store = new FileStore(root ?? Directory.CreateDirectory(_sandbox.Combine("root")).FullName, options);
        handlerOptions ??= new FileXferHandlerOptions();
        if (tls is not null)
        {
            handlerOptions.Tls = TestCertificates.Context(tls);
        }

        _server = new TcpServer(
            new IPEndPoint(IPAddress.Loopback, 0),
            context => new FileXferRequestHandler(context, Store, handlerOptions, Log),
            Log,
            new TcpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(5) });
        _server.Start();
        Port = _server.LocalEndPoint.Port;
        _serving = Task.Run(() => _server.ServeForeverAsync(CancellationToken.None));
    }

    /// <summary>What the server logged.</summary>
    public RecordingLogger Log { get; } = new();

    /// <summary>The store the server serves.</summary>
    public FileStore Store { get; }

    /// <summary>The real path of the server's root directory.</summary>
    public string Root => Store.Root;

    /// <summary>The directory that holds the root and nothing else, unless something escaped the root.</summary>
    public string Sandbox => Path.GetDirectoryName(Root)!;

    /// <summary>Where the server stages uploads until they are committed.</summary>
    public string StagingDirectory => Store.StagingDirectory;

    /// <summary>The bound port.</summary>
    public int Port { get; }

    /// <summary>The server's address as the client takes it: <c>127.0.0.1:PORT</c>.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>The local path of a remote path under the root.</summary>
    public string PathOf(string remotePath) => Path.Combine([Root, .. remotePath.Split('/', StringSplitOptions.RemoveEmptyEntries)]);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        await _serving;
        await _server.DisposeAsync();
        _sandbox.Dispose();
        var errors = Log.Entries.Where(entry => entry.Level >= LogLevel.Error).Select(entry => entry.Message).ToList();
        Assert.True(errors.Count == 0, "the server logged errors:\n" + string.Join("\n", errors));
    }
}
