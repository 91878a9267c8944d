using System.Net.Security;
using FileXfer.Server.Metrics;
using FileXfer.Server.Security;

namespace FileXfer.Server.Handlers;

/// <summary>Settings of the protocol handler.</summary>
public sealed class FileXferHandlerOptions
{
    /// <summary>
    /// A connection that makes no progress for this long is closed: an idle client, or a body that stalled (its
    /// partial upload is then released for a resuming retry). Default: 5 minutes.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// When a file stored with its verified hash is sent with <c>sendfile(2)</c>, without passing through the server's
    /// memory (only on plain TCP connections on Linux; otherwise it is copied through a buffer). Either way it is not
    /// hashed again: the client checks what arrives against the stored hash. Default:
    /// <see cref="SendFileUse.RemotePeers"/>.
    /// </summary>
    public SendFileUse SendFile { get; set; } = SendFileUse.RemotePeers;

    /// <summary>
    /// The certificate to accept TLS with, before the FileXfer handshake. When set, every connection must start
    /// with a TLS handshake; a plaintext client is answered with an error. Default: null, plaintext.
    /// </summary>
    public SslStreamCertificateContext? Tls { get; set; }

    /// <summary>The agent string sent to clients.</summary>
    public string Agent { get; set; } = $"filexfer-server/{typeof(FileXferHandlerOptions).Assembly.GetName().Version?.ToString(3) ?? "0"}";

    /// <summary>
    /// The tokens clients must authenticate with; null (the default) serves every client anonymously with full access.
    /// </summary>
    public TokenAuthenticator? Authenticator { get; set; }

    /// <summary>Where requests, bytes, authentication failures and group commits are counted; null counts nothing.</summary>
    public ServerMetrics? Metrics { get; set; }

    /// <summary>
    /// Bytes per second each connection may move, both directions together (<c>--bwlimit</c>); files are then sent
    /// through the throttle, never with <c>sendfile(2)</c>. Default: null, no limit.
    /// </summary>
    public long? BandwidthLimit { get; set; }

    /// <summary>TCP settings of each accepted connection (<see cref="FileXfer.Protocol.Net.TcpTuning"/>). Default: what the environment asks for, else none.</summary>
    public FileXfer.Protocol.Net.TcpTuning Tcp { get; set; } = FileXfer.Protocol.Net.TcpTuning.FromEnvironment();

    /// <summary>
    /// Whether <see cref="Capabilities.Compression"/> is announced; without it clients send and receive bodies as they
    /// are (a server of an older version behaves so). Not a command-line option yet. Default: true.
    /// </summary>
    public bool Compression { get; set; } = true;

    /// <summary>
    /// Whether the server announces <see cref="Capabilities.ParallelStreams"/> (files in ranges over several
    /// connections) when its store can take them (<see cref="Storage.IRangedUploads"/>). Default: true; false
    /// withholds it, and clients then send every file over one connection.
    /// </summary>
    public bool ParallelStreams { get; set; } = true;

    /// <summary>
    /// Whether the server announces <see cref="Capabilities.DirectoryTimes"/> (ParentMTime honoured) when its store sets
    /// parent times (<see cref="Storage.IStoreSession.SetsParentTimes"/>). Default: true; false withholds it, as a server
    /// of an older version does, and clients then set directory times in a last pass of MakeDirectory requests.
    /// </summary>
    public bool DirectoryTimes { get; set; } = true;

    /// <summary>
    /// Whether the server announces <see cref="Capabilities.WorkingBeats"/> to a client that offers it. Default: true;
    /// false withholds it, as a server of an older version does: no Working frames, and a request whose work outlasts the
    /// client's idle timeout fails there as a stalled connection.
    /// </summary>
    public bool WorkingBeats { get; set; } = true;

    /// <summary>
    /// How often the server tells a client that announced <see cref="Capabilities.WorkingBeats"/> that it is still working
    /// on a request it has not answered yet (a Hash reading a large file): a <see cref="MessageType.Working"/> frame every
    /// interval. Null (the default): a quarter of <see cref="IdleTimeout"/>, at most <see cref="MaxWorkingInterval"/>, so a
    /// client whose own idle timeout is twice that or more never takes the work for a stall. Not a command-line option.
    /// </summary>
    public TimeSpan? WorkingInterval { get; set; }

    /// <summary>The longest default <see cref="WorkingInterval"/>: 1 s, well under any client's idle timeout of 2 s or more.</summary>
    public static readonly TimeSpan MaxWorkingInterval = TimeSpan.FromSeconds(1);

    /// <summary>The directories whose parent time could not be set that were logged already: shared by the server's connections.</summary>
    internal ParentTimeWarnings ParentTimeWarnings { get; } = new();
}
