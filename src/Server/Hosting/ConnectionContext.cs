using System.Net;
using System.Net.Sockets;

namespace FileXfer.Server.Hosting;

/// <summary>What a handler is given about its connection (socketserver's <c>request</c> and <c>client_address</c>).</summary>
public sealed class ConnectionContext : IDisposable
{
    private const int Newcomer = 0;
    private const int Established = 1;
    private const int Evicted = 2;

    private readonly CancellationTokenSource _aborted;
    private readonly CancellationTokenSource _handshakeDeadline;
    private readonly long _accepted;
    private int _state;

    internal ConnectionContext(long id, Socket socket, TimeSpan handshakeTimeout, TimeProvider timeProvider, CancellationToken stopping, CancellationToken aborted)
    {
        Id = id;
        Socket = socket;
        RemoteEndPoint = socket.RemoteEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        Address = Normalize(RemoteEndPoint.Address);
        Stopping = stopping;
        _aborted = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        Aborted = _aborted.Token;
        TimeProvider = timeProvider;
        HandshakeTimeout = handshakeTimeout;
        _accepted = timeProvider.GetTimestamp();
        // Started at the accept, and the only handshake clock: TLS and the FileXfer handshake share its budget.
        _handshakeDeadline = new CancellationTokenSource(handshakeTimeout, timeProvider);
        HandshakeDeadline = _handshakeDeadline.Token;
    }

    /// <summary>A number unique within this server's run, for logs.</summary>
    public long Id { get; }

    /// <summary>The accepted socket.</summary>
    public Socket Socket { get; }

    /// <summary>The peer's address.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>The address the peer counts as for limits and throttles (see <see cref="Normalize"/>).</summary>
    public IPAddress Address { get; }

    /// <summary>An IPv4 client on a dual-mode socket counts as its IPv4 address.</summary>
    public static IPAddress Normalize(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>Cancelled when the server stops accepting: finish the request in flight, take no new one.</summary>
    public CancellationToken Stopping { get; }

    /// <summary>
    /// Cancelled when the shutdown deadline passed, or when the server evicted this connection to make room
    /// (see <see cref="TryMarkEstablished"/>): abandon everything now.
    /// </summary>
    public CancellationToken Aborted { get; }

    /// <summary>The server's clock: every timeout and delay of the connection is measured on it.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>The handshake budget <see cref="HandshakeDeadline"/> was given at the accept.</summary>
    public TimeSpan HandshakeTimeout { get; }

    /// <summary>
    /// Cancelled <see cref="HandshakeTimeout"/> after the accept: the whole handshake (TLS, FileXfer's, authentication)
    /// must be done by then. Not restarted by progress, so a peer trickling its handshake is cut off all the same.
    /// </summary>
    public CancellationToken HandshakeDeadline { get; }

    /// <summary>How long ago the connection was accepted, on <see cref="TimeProvider"/>.</summary>
    internal TimeSpan Age => TimeProvider.GetElapsedTime(_accepted);

    /// <summary>True when the server evicted this connection before it completed its handshake.</summary>
    public bool IsEvicted => Volatile.Read(ref _state) == Evicted;

    /// <summary>True once the handler said the peer completed its handshake.</summary>
    public bool IsEstablished => Volatile.Read(ref _state) == Established;

    /// <summary>
    /// Tells the server the peer has completed its handshake (and authentication, where there is one). Until
    /// then the connection is a newcomer, and a full server evicts its oldest newcomer to let a new connection
    /// in once that one has been in its handshake for <see cref="TcpServerOptions.EvictionAge"/>: connections that
    /// stall in their handshake cannot keep real clients out.
    /// </summary>
    /// <remarks>
    /// Called before the answer that completes the handshake is sent, never after: a connection evicted meanwhile gets
    /// no answer (false: close it), so no client is told it is connected on a connection about to be cut.
    /// </remarks>
    public bool TryMarkEstablished() => Interlocked.CompareExchange(ref _state, Established, Newcomer) != Evicted;

    /// <summary>Marks a newcomer evicted: false when it has completed its handshake meanwhile (or was evicted already).</summary>
    internal bool TryMarkEvicted() => Interlocked.CompareExchange(ref _state, Evicted, Newcomer) == Newcomer;

    /// <summary>Cancels <see cref="Aborted"/>: the handler abandons the connection.</summary>
    internal void Abort()
    {
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The connection ended meanwhile; there is nothing left to abort.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _aborted.Dispose();
        _handshakeDeadline.Dispose();
    }
}
