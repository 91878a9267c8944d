using FileXfer.Server.Metrics;

namespace FileXfer.Server.Hosting;

/// <summary>Settings of the TCP host.</summary>
public sealed class TcpServerOptions
{
    /// <summary>The listen backlog. Default: 512.</summary>
    public int Backlog { get; set; } = 512;

    /// <summary>
    /// How long a new connection has, from its accept, to complete its handshake: TLS (when on), the FileXfer
    /// handshake and authentication (when required), all within this one budget. Progress does not extend it.
    /// Default: 10 seconds.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// TCP keepalive on accepted connections: a connection silent this long is probed, and probed again at this
    /// interval; after <see cref="KeepAliveProbes"/> unanswered probes the kernel drops it, so a peer that vanished
    /// (its machine or network gone, nothing closed) is noticed within about
    /// (1 + <see cref="KeepAliveProbes"/>) × this even while the server waits for it to send. Null turns keepalive
    /// off. Default: 30 seconds.
    /// </summary>
    public TimeSpan? KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Unanswered keepalive probes after which a connection is dropped (see <see cref="KeepAliveInterval"/>). Default: 3.</summary>
    public int KeepAliveProbes { get; set; } = 3;

    /// <summary>How long a stop waits for connections in flight before aborting them. Default: 30 seconds.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most connections served at once. A connection over it is refused, unless a connection that has not
    /// completed its handshake yet can be evicted to make room (the oldest goes). Default: 256.
    /// </summary>
    public int MaxConnections { get; set; } = 256;

    /// <summary>The most connections served at once from one IP address. Default: 32.</summary>
    public int MaxConnectionsPerAddress { get; set; } = 32;

    /// <summary>
    /// The most refused connections being answered at once; past it a refused connection is closed without an
    /// answer, so a flood of connections cannot pile up sockets. Default: 64.
    /// </summary>
    public int MaxPendingRefusals { get; set; } = 64;

    /// <summary>How long a refused connection is given to receive its answer before it is closed. Default: 2 seconds.</summary>
    public TimeSpan RefusalTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Refused connections are logged at most once per this interval, with a count of the others. Default: 10 seconds.</summary>
    public TimeSpan RefusalLogInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Failed connections are logged one by one up to <see cref="FailureLogBurst"/> per this interval. Default: 10 seconds.</summary>
    public TimeSpan FailureLogInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many failed connections are logged one by one per <see cref="FailureLogInterval"/>; the rest are counted. Default: 20.</summary>
    public int FailureLogBurst { get; set; } = 20;

    /// <summary>
    /// The clock of every deadline and delay of the server and its connections (handshake, idle and refusal
    /// timeouts, the shutdown deadline, log rate limits), so tests can move time with a fake one. Default: the
    /// system clock.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where connections opened, closed and refused are counted; null counts nothing.</summary>
    public ServerMetrics? Metrics { get; set; }
}
