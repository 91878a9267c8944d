using System.Net;
using Amazon.S3;
using FileXfer.Server.Handlers;
using FileXfer.Server.Hosting;
using FileXfer.Server.Storage.S3;

namespace FileXfer.S3.Tests;

/// <summary>
/// The real server in-process over an <see cref="S3Store"/>: a <see cref="TcpServer"/> on 127.0.0.1:0 serving the
/// protocol handler, with a client of its own to the object store, as a separate server process would have. Two
/// of them over one location are two stateless front-ends of one bucket. Disposing stops it and fails if it logged
/// an error.
/// </summary>
public sealed class S3TestServer : IAsyncDisposable
{
    private readonly IAmazonS3 _client;

    public S3TestServer(CephCluster cluster, BucketLocation location, S3StoreOptions? options = null, FileXferHandlerOptions? handlerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        _client = cluster.CreateClient();
        Store = new S3Store(_client, location, options);
        Server = new TcpServer(
            new IPEndPoint(IPAddress.Loopback, 0),
            context => new FileXferRequestHandler(context, Store, handlerOptions ?? new FileXferHandlerOptions(), Log),
            Log,
            new TcpServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(5) });
        Server.Start();
        EndPoint = Server.LocalEndPoint;
        Serving = Server.ServeForeverAsync(CancellationToken.None);
    }

    public RecordingLogger Log { get; } = new();

    public S3Store Store { get; }

    public TcpServer Server { get; }

    public Task Serving { get; }

    public IPEndPoint EndPoint { get; }

    /// <summary>The server's address as the client takes it: <c>127.0.0.1:PORT</c>.</summary>
    public string Address => $"127.0.0.1:{EndPoint.Port}";

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
            _client.Dispose();
        }

        Log.ThrowIfErrorsLogged();
    }
}
