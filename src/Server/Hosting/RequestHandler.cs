namespace FileXfer.Server.Hosting;

/// <summary>
/// Handles one connection, in the shape of socketserver's <c>BaseRequestHandler</c>: <see cref="SetupAsync"/>,
/// then <see cref="HandleAsync"/>, then <see cref="FinishAsync"/>, which runs even when the others failed.
/// </summary>
public abstract class RequestHandler(ConnectionContext connection)
{
    /// <summary>The connection this handler serves.</summary>
    protected ConnectionContext Connection { get; } = connection ?? throw new ArgumentNullException(nameof(connection));

    /// <summary>Prepares the connection before <see cref="HandleAsync"/>.</summary>
    public virtual ValueTask SetupAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Serves the connection until it ends.</summary>
    public abstract Task HandleAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Called instead of <see cref="SetupAsync"/> and <see cref="HandleAsync"/> when the server refuses the
    /// connection (it is over a connection limit): tells the peer <paramref name="reason"/> in its protocol, if
    /// it can, before <paramref name="cancellationToken"/> (a short deadline). The server closes the socket after
    /// it, then calls <see cref="FinishAsync"/>. By default the peer is told nothing.
    /// </summary>
    public virtual ValueTask RefuseAsync(string reason, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Cleans up after the connection, whatever happened.</summary>
    public virtual ValueTask FinishAsync() => ValueTask.CompletedTask;
}
