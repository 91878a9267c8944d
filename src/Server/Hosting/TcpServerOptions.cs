using FileXfer.Server.Metrics;

namespace FileXfer.Server.Hosting;

/// <summary>Settings of the TCP host.</summary>
public sealed class TcpServerOptions
{
    // Null until set: the eviction age then follows the handshake timeout.
    private TimeSpan? _evictionAge;

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
    /// The most connections served at once. A connection over it is refused, unless a connection that has spent at
    /// least <see cref="EvictionAge"/> in its handshake can be evicted to make room (the oldest goes). Default: 256.
    /// </summary>
    public int MaxConnections { get; set; } = 256;

    /// <summary>
    /// The most connections served at once from one IP address; over it, as over <see cref="MaxConnections"/>, the
    /// oldest connection from that address that has spent at least <see cref="EvictionAge"/> in its handshake makes
    /// room, else the new one is refused. Default: 32.
    /// </summary>
    public int MaxConnectionsPerAddress { get; set; } = 32;

    /// <summary>
    /// How long a connection must have been in its handshake, counted from its accept on <see cref="TimeProvider"/>,
    /// before a full server evicts it for a new connection. A younger one looks like a client's handshake under way, not
    /// a connection parked in it, and the newcomer is refused as busy instead. Must be positive and shorter than
    /// <see cref="HandshakeTimeout"/> (a connection is closed at that deadline, so an age past it would never be
    /// reached). Default, while it is not set: a tenth of <see cref="HandshakeTimeout"/>, read when it is used (1 s for
    /// the default 10 s).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Why: a client that opens its connections together (a tree's listing connection and its transfer connections, all
    /// its SYNs at once) reaches the server's limit with its own connections, all in their handshakes. Evicting the oldest
    /// then cuts the client's first connection, a couple of round trips into a normal handshake, and fails its whole
    /// attempt; refusing the newest as busy costs nothing, since a client gives up a connection a busy server refuses and
    /// goes on over the others. A handshake is 2 to 4 round trips from the accept (TLS, Hello and Welcome, the
    /// Authenticate unless it rode in the Hello), so the default 1 s lets it finish on any terrestrial link (up to about 250 ms of
    /// round trip), and a client's connections opened one round trip apart all arrive well within it.
    /// </para>
    /// <para>
    /// The slowloris defence stays: a server full of connections parked in their handshakes has room again for a
    /// newcomer (a client's retry) once they are this old, by default a tenth of the wait the handshake deadline alone
    /// would impose. Unless set, tied to <see cref="HandshakeTimeout"/>, so a server given a longer budget for slow links
    /// protects handshakes on them for longer too. Set it lower under a flood of half-open connections, so they make
    /// room sooner (at the price of cutting slow clients' handshakes sooner too), or higher for links whose handshakes
    /// take longer than a tenth of the budget.
    /// </para>
    /// </remarks>
    public TimeSpan EvictionAge
    {
        get => _evictionAge ?? HandshakeTimeout / 10;
        set => _evictionAge = value;
    }

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
