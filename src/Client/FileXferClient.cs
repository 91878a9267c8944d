using System.Net.Sockets;
using FileXfer.Client.Tls;
using FileXfer.Platform;
using FileXfer.Protocol.Net;
using FileXfer.Protocol.Security;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Client;

/// <summary>
/// One connection to a FileXfer server, with every transfer verified end to end. This is the library part of
/// the client: it never touches the console; the command line maps its results and exceptions to output and
/// exit codes.
/// </summary>
/// <remarks>
/// Failures surface as <see cref="FileXferException"/> (with the server's or the client's
/// <see cref="ErrorCode"/>), <see cref="ConnectionFailedException"/> and <see cref="ConnectionLostException"/>
/// (network), or plain <see cref="IOException"/> for local files. Requests on one client run one at a time.
/// </remarks>
public sealed partial class FileXferClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly GuardedNetworkStream _stream;
    private readonly ProtocolReader _reader;
    private readonly FrameWriter _writer;
    private readonly FileXferClientOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private uint _nextRequestId;
    private bool _broken;
    private RangeReceiveRate? _rangeRate;
    private bool _inFlight;
    private RunTicket? _ticket;

    private FileXferClient(Socket socket, Stream transport, FileXferClientOptions options)
    {
        _socket = socket;
        _options = options;
        _stream = new GuardedNetworkStream(options.BandwidthLimit is { } limit ? new ThrottledStream(transport, limit) : transport) { IdleTimeout = options.IdleTimeout, TimeProvider = options.TimeProvider, Socket = options.Tls is null ? socket : null };
        _writer = new FrameWriter(_stream);
        // Requests are gathered and sent whenever the client is about to wait for an answer.
        _reader = new ProtocolReader(_stream) { BeforeBlockingRead = _writer.FlushAsync };
    }

    /// <summary>The server's agent string from the handshake.</summary>
    public string ServerAgent { get; private set; } = string.Empty;

    /// <summary>The protocol version both sides agreed on.</summary>
    public int ProtocolVersion { get; private set; }

    /// <summary>The optional features both sides implement.</summary>
    public Capabilities Capabilities { get; private set; }

    /// <summary>The largest file the server accepts.</summary>
    public long ServerMaxFileSize { get; private set; }

    /// <summary>True when the server required a token and both sides proved they know its secret (see <see cref="WhenAuthenticatedAsync"/>).</summary>
    public bool IsAuthenticated { get; private set; }

    /// <summary>
    /// What the token may do: <see cref="AccessFlags.Write"/>, or none for read-only (and until the server's Ok said, see
    /// <see cref="WhenAuthenticatedAsync"/>). Write on an anonymous server.
    /// </summary>
    public AccessFlags Access { get; private set; } = AccessFlags.Write;

    /// <summary>
    /// The handshake's round trip as measured on <see cref="FileXferClientOptions.TimeProvider"/>: from the Hello sent
    /// to the Welcome read (with the server's little work between). <see cref="ParallelTransfer"/> chooses its streams from it.
    /// </summary>
    public TimeSpan HandshakeRoundTrip { get; private set; }

    /// <summary>
    /// The connection's round trip: the smaller of <see cref="HandshakeRoundTrip"/> and the kernel's own measure of the
    /// TCP connection (Linux), so that a loaded machine, whose threads wait for a core, does not read as a long link.
    /// </summary>
    public TimeSpan RoundTrip { get; private set; }

    /// <summary>The hash algorithm this connection's transfers and hash requests use.</summary>
    public string HashAlgorithm => _options.HashAlgorithm;

    /// <summary>
    /// Connects to a server and completes the handshake. When the server asks for the challenge and takes requests behind
    /// it (<see cref="Capabilities.PipelinedAuthentication"/>), the connection is returned once the Authenticate is sent:
    /// its Ok is read as the first answer of the first request (whose failure is then the authentication's), or by
    /// <see cref="WhenAuthenticatedAsync"/>; until then <see cref="IsAuthenticated"/> is false and <see cref="Access"/> none.
    /// </summary>
    /// <exception cref="ConnectionFailedException">The server cannot be reached or did not answer in time.</exception>
    /// <exception cref="ServerCertificateException">TLS is on and the server's certificate is not trusted.</exception>
    public static async Task<FileXferClient> ConnectAsync(HostPort server, FileXferClientOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        options ??= new FileXferClientOptions();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.ConnectTimeout);

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        options.Tcp.Apply(socket);
        FileXferClient? client = null;
        try
        {
            await socket.ConnectAsync(server.Host, server.Port, deadline.Token);
            if (KernelRoundTrip.Read(socket) is { } linkRoundTrip)
            {
                // Known one round trip in, before TLS and the handshake: the run's other connections need not wait for those.
                options.Run.LinkMeasured(linkRoundTrip);
            }

            Stream transport = new NetworkStream(socket, ownsSocket: true);
            if (options.Tls is { } tls)
            {
                // Before a single FileXfer byte: the magic, the Hello and everything after go inside TLS or nowhere.
                transport = await TlsConnector.ConnectAsync(transport, server, tls, deadline.Token);
            }

            client = new FileXferClient(socket, transport, options);
            await client.HandshakeAsync(deadline.Token);
            return client;
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await DisposeAsync(client, socket);
            throw new ConnectionFailedException($"cannot connect to {server}: no answer within {options.ConnectTimeout.TotalSeconds:F0} s", ex);
        }
        catch (SocketException ex)
        {
            await DisposeAsync(client, socket);
            throw new ConnectionFailedException($"cannot connect to {server}: {ex.Message}", ex);
        }
        catch (ConnectionLostException ex)
        {
            await DisposeAsync(client, socket);
            throw new ConnectionFailedException($"cannot connect to {server}: the server closed the connection during the handshake", ex);
        }
        catch
        {
            await DisposeAsync(client, socket);
            throw;
        }
    }

    /// <summary>Creates a remote directory with its parents, or sets the time and mode of an existing one.</summary>
    public Task<RemoteEntry> MakeDirectoryAsync(string remotePath, DateTimeOffset? modifiedUtc, int? mode, CancellationToken cancellationToken)
    {
        var remote = RemotePath.Normalize(remotePath);
        RequireCapability(Capabilities.Trees);
        return RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.MakeDirectory(id, remote, modifiedUtc, mode), cancellationToken);
            return Messages.ReadEntry(await ReadResponseAsync(id, MessageType.Ok, cancellationToken));
        }, cancellationToken);
    }

    /// <summary>Describes a remote path.</summary>
    public Task<RemoteEntry> StatAsync(string remotePath, CancellationToken cancellationToken) =>
        PathRequestAsync(MessageType.Stat, remotePath, cancellationToken);

    /// <summary>Deletes a remote file or empty directory; returns what was deleted.</summary>
    public Task<RemoteEntry> DeleteAsync(string remotePath, CancellationToken cancellationToken) =>
        PathRequestAsync(MessageType.Delete, remotePath, cancellationToken);

    /// <summary>A request that names only a path and is answered with the entry it is about.</summary>
    private Task<RemoteEntry> PathRequestAsync(MessageType type, string remotePath, CancellationToken cancellationToken)
    {
        var remote = RemotePath.Normalize(remotePath);
        return RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.PathRequest(type, id, remote), cancellationToken);
            return Messages.ReadEntry(await ReadResponseAsync(id, MessageType.Ok, cancellationToken));
        }, cancellationToken);
    }

    /// <summary>Has the server hash a stored file without sending it.</summary>
    public Task<HashResult> HashAsync(string remotePath, string? algorithm, CancellationToken cancellationToken)
    {
        var remote = RemotePath.Normalize(remotePath);
        var name = algorithm ?? _options.HashAlgorithm;
        if (!HashAlgorithms.IsSupported(name))
        {
            throw new FileXferException(ErrorCode.UnsupportedHashAlgorithm, $"unsupported hash algorithm '{name}'; use one of {string.Join(", ", HashAlgorithms.Supported)}");
        }

        return RunAsync(async id =>
        {
            await _writer.WriteAsync(Messages.Hash(id, remote, name), cancellationToken);
            var ok = await ReadResponseAsync(id, MessageType.Ok, cancellationToken);
            var hash = ok.GetBytes(FieldTag.HashValue);
            if (ok.GetString(FieldTag.HashAlgorithm) != name)
            {
                throw new ProtocolViolationException("server hashed with another algorithm than asked for");
            }

            return new HashResult(remote, ok.GetSize(FieldTag.Size), name, hash);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_ticket is { } ticket && _nextRequestId > 0 && (_broken || _inFlight))
        {
            // A request may still reach the server and be carried out: the next connection declares this one abandoned.
            // (Not one that sent none: a connection given up while it waited for its Ok to Authenticate, say.)
            _options.Run.Abandon(ticket.Number);
        }

        _reader.Dispose();
        _writer.Dispose();
        await _stream.DisposeAsync();
        _socket.Dispose();
        _gate.Dispose();
    }

    private static async ValueTask DisposeAsync(FileXferClient? client, Socket socket)
    {
        if (client is not null)
        {
            await client.DisposeAsync();
        }
        else
        {
            socket.Dispose();
        }
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        await _writer.WriteMagicAsync(cancellationToken);
        var clientNonce = SecureRandom.GetBytes(ProtocolLimits.AuthBytes);
        var ticket = _options.Run.NextTicket();
        byte[]? runTicket = null;
        if (_options.Credential is { } credential && _options.Run.AuthTicket is { } held && held.TokenName == credential.Name)
        {
            // Early authentication: the proof goes in the Hello, over the ticket a server of this run issued.
            runTicket = held.Nonce;
            var early = AuthProof.ForRunClient(credential.Secret, clientNonce, runTicket, ticket.RunId, ticket.Number, credential.Name);
            await _writer.WriteAsync(Messages.Hello(ProtocolLimits.Version, Messages.Implemented, _options.Agent, clientNonce, ticket, credential.Name, early), cancellationToken);
        }
        else
        {
            await _writer.WriteAsync(Messages.Hello(ProtocolLimits.Version, Messages.Implemented, _options.Agent, clientNonce, ticket), cancellationToken);
        }

        // The Hello goes out when the reader first waits; the Welcome comes back one round trip later.
        long sent = _options.TimeProvider.GetTimestamp();
        await _reader.ReadMagicAsync(cancellationToken);
        var welcome = await _reader.ReadRequiredFrameAsync(cancellationToken);
        HandshakeRoundTrip = _options.TimeProvider.GetElapsedTime(sent);
        var kernel = KernelRoundTrip.Read(_socket);
        RoundTrip = kernel is { } measured && measured < HandshakeRoundTrip ? measured : HandshakeRoundTrip;
        if (welcome.Type == MessageType.Error)
        {
            throw Messages.ToException(welcome);
        }

        if (welcome.Type != MessageType.Welcome)
        {
            throw new ProtocolViolationException($"expected Welcome, got {welcome.Type}");
        }

        long version = welcome.GetInt64OrNull(FieldTag.Version) ?? throw new ProtocolViolationException("Welcome lacks the version");
        if (version is < ProtocolLimits.MinVersion or > ProtocolLimits.Version)
        {
            throw new FileXferException(ErrorCode.UnsupportedVersion, $"server chose protocol version {version}, which this client does not speak");
        }

        ProtocolVersion = (int)version;
        Capabilities = (Capabilities)(welcome.GetUInt64OrNull(FieldTag.Capabilities) ?? 0) & Messages.Implemented;
        ServerAgent = RemotePath.Escape(welcome.GetStringOrNull(FieldTag.Agent) ?? "unknown");
        ServerMaxFileSize = welcome.GetSizeOrNull(FieldTag.MaxFileSize) ?? ProtocolLimits.MaxBodySize;
        if (Capabilities.HasFlag(Capabilities.Authentication) && welcome.GetBytesOrNull(FieldTag.ServerProof) is null)
        {
            // The challenge: its Ok is read here, or, when the server takes requests behind Authenticate, as the first
            // answer of the first request (ReadPendingOkAsync), which fences the Hello's declarations then.
            await SendAuthenticateAsync(clientNonce, welcome.GetBytesOrNull(FieldTag.ServerNonce), ticket, cancellationToken);
            if (!Capabilities.HasFlag(Capabilities.PipelinedAuthentication))
            {
                await ReadPendingOkAsync(cancellationToken);
            }

            // Requests may follow from here: giving the connection up with one in flight is declared by the next.
            _ticket = ticket;
            return;
        }

        if (Capabilities.HasFlag(Capabilities.Authentication))
        {
            AcceptEarlyAuthentication(welcome, welcome.GetBytes(FieldTag.ServerProof), clientNonce, runTicket, ticket);
        }

        // The server fenced the connections this Hello declared before it answered; from here on this connection's
        // requests count, and giving it up with one in flight is declared by the next.
        _options.Run.Declared(ticket);
        _ticket = ticket;
    }

    private void RequireCapability(Capabilities capability)
    {
        if (!Capabilities.HasFlag(capability))
        {
            throw new FileXferException(ErrorCode.UnknownMessage, $"the server ({ServerAgent}) does not support {capability}");
        }
    }

    /// <summary>Runs one request exclusively, with a fresh request id.</summary>
    private async Task<T> RunAsync<T>(Func<uint, Task<T>> request, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_broken)
            {
                throw new ConnectionLostException("the connection was left unusable by an earlier failure");
            }

            uint id = ++_nextRequestId;
            _inFlight = true;
            try
            {
                var result = await request(id);
                _inFlight = false;
                return result;
            }
            catch (Exception ex) when (ex is ProtocolViolationException or ConnectionLostException or OperationCanceledException)
            {
                _broken = true;
                throw;
            }
            catch (FileXferException) when (!_broken)
            {
                // The server answered (an error), or the client refused before sending: nothing is left in flight.
                _inFlight = false;
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads the answer to request <paramref name="id"/>; an error frame becomes its exception.</summary>
    private async Task<Frame> ReadResponseAsync(uint id, MessageType? expected, CancellationToken cancellationToken)
    {
        if (_pendingOk is not null)
        {
            await ReadPendingOkAsync(cancellationToken);
        }

        var frame = await _reader.ReadRequiredFrameAsync(cancellationToken);
        while (frame.Type == MessageType.Working)
        {
            // The server is still working on the request (WorkingBeats): each frame is progress the idle timeout saw.
            CheckWorking(frame, id);
            frame = await _reader.ReadRequiredFrameAsync(cancellationToken);
        }

        CheckResponse(frame, id, expected);
        return frame;
    }

    /// <summary>
    /// Checks a Working frame: only from a server both sides agreed on WorkingBeats with, and only for the request being
    /// waited on (one for any other request means the two sides are out of step).
    /// </summary>
    private void CheckWorking(Frame working, uint id)
    {
        if (!Capabilities.HasFlag(Capabilities.WorkingBeats))
        {
            _broken = true;
            throw new ProtocolViolationException($"server sent Working for request {working.RequestId} without the WorkingBeats capability");
        }

        if (working.RequestId != id)
        {
            _broken = true;
            throw new ProtocolViolationException($"server sent Working for request {working.RequestId} while {id} was pending");
        }

        // Its count is only progress, but a malformed one is as much a violation as a malformed answer.
        _ = Messages.ReadWorkingDone(working);
    }

    /// <summary>Checks that a frame answers request <paramref name="id"/>, raising a server's Error as its exception.</summary>
    private void CheckResponse(Frame frame, uint id, MessageType? expected)
    {
        if (frame.RequestId != id && !(frame.Type == MessageType.Error && frame.RequestId == 0))
        {
            throw new ProtocolViolationException($"server answered request {frame.RequestId} while {id} was pending");
        }

        if (frame.Type == MessageType.Error)
        {
            var error = Messages.ToException(frame);
            if (error.Code is ErrorCode.ProtocolViolation or ErrorCode.UnknownMessage)
            {
                _broken = true;
            }

            throw error;
        }

        if (expected is { } type && frame.Type != type)
        {
            throw new ProtocolViolationException($"expected {type}, got {frame.Type}");
        }
    }
}
