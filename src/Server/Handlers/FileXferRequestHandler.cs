using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using FileXfer.Platform;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;
using FileXfer.Protocol.Paths;
using FileXfer.Protocol.Security;
using FileXfer.Protocol.Transfer;
using FileXfer.Server.Hosting;
using FileXfer.Server.Security;
using FileXfer.Server.Storage;
using Microsoft.Extensions.Logging;

namespace FileXfer.Server.Handlers;

/// <summary>
/// Serves one FileXfer connection: the handshake, then requests one after another until the client closes,
/// the server stops, or the connection breaks. Failed requests are answered with error frames; the
/// connection is closed only when it can no longer be kept in step (a broken frame, a body cut short).
/// </summary>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "FinishAsync releases them; TcpServer always calls it.")]
public sealed class FileXferRequestHandler(
    ConnectionContext connection,
    FileStore store,
    FileXferHandlerOptions options,
    ILogger logger) : RequestHandler(connection)
{
    private const int HashBufferSize = 1024 * 1024;

    // Below the client's pipeline window (FileXferClient.PipelineWindow), so answers flow before it fills.
    private const int MaxUnflushedAnswers = 64;
    private const int MaxGroupCommit = 64;

    /// <summary>The message of the Error frame a TLS server answers a plaintext client with.</summary>
    public const string TlsRequiredMessage = "this server requires TLS (use --tls)";

    // A refused client's Hello is read and dropped while it takes its answer, but not more than this many reads.
    private const int MaxRefusalDrainReads = 16;

    // How long a resuming put waits for an earlier connection, told to abandon its upload, to let go of its partial.
    private static readonly TimeSpan ResumeKeyWait = TimeSpan.FromSeconds(2);

    private readonly List<PendingCommit> _pendingCommits = [];

    // The capabilities both sides announced, known once the handshake is done.
    private Capabilities _capabilities;

    // The store this client sees: the server's, or its token's subtree once authenticated.
    private readonly FileStore _serverStore = store;
    private FileStore _store = store;

    // False for a read-only token: put, delete and make directory are refused.
    private bool _canWrite = true;

    // Directories this connection has put files into, held open and located (Linux): the next file of one costs no walk.
    private DirectoryHandles? _directories;

    private GuardedNetworkStream? _stream;
    private TlsState _tlsState;
    private int _unflushedAnswers;
    private ProtocolReader? _reader;
    private FrameWriter? _writer;

    // True while a body is on the wire: a failure then leaves the byte stream out of step, so the connection closes.
    private bool _inBody;

    // True while this side sends a body: then not even an error frame can be sent.
    private bool _sendingBody;

    // Stored files are sent with sendfile(2) (see FileXferHandlerOptions.SendFile): a plain TCP connection (no TLS) on Linux.
    private bool _zeroCopy;

    private ProtocolReader Reader => _reader ?? throw new InvalidOperationException("SetupAsync was not called");

    private FrameWriter Writer => _writer ?? throw new InvalidOperationException("SetupAsync was not called");

    /// <inheritdoc />
    public override async ValueTask SetupAsync(CancellationToken cancellationToken)
    {
        // Small frames (Ready, Ok) must not wait on Nagle's algorithm.
        Connection.Socket.NoDelay = true;
        Stream transport = new NetworkStream(Connection.Socket, ownsSocket: false);
        if (options.Tls is { } certificate)
        {
            transport = await AcceptTlsAsync(transport, certificate, cancellationToken);
        }

        _stream = new GuardedNetworkStream(transport)
        {
            IdleTimeout = options.IdleTimeout,
            TimeProvider = Connection.TimeProvider,
            Socket = options.Tls is null ? Connection.Socket : null,
        };
        _zeroCopy = OperatingSystem.IsLinux() && options.Tls is null && options.SendFile switch
        {
            SendFileUse.Always => true,
            SendFileUse.RemotePeers => !System.Net.IPAddress.IsLoopback(Connection.Address),
            _ => false,
        };
        _writer = new FrameWriter(_stream);
        // Answers are gathered and sent (after their uploads are committed) whenever the handler is about to wait for the client.
        // A small buffer until a large frame needs more: connections stalled in their handshake hold little.
        _reader = new ProtocolReader(_stream, initialBufferSize: 4096) { BeforeBlockingRead = BeforeBlockingReadAsync };
    }

    /// <inheritdoc />
    public override async Task HandleAsync(CancellationToken cancellationToken)
    {
        if (_tlsState == TlsState.Stopped)
        {
            return;
        }

        if (_tlsState == TlsState.Plaintext)
        {
            await RefusePlaintextAsync(cancellationToken);
            return;
        }

        if (!await HandshakeAsync(cancellationToken))
        {
            return;
        }

        while (true)
        {
            Frame? frame;
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Connection.Stopping))
            {
                try
                {
                    frame = await Reader.ReadFrameAsync(idle.Token);
                }
                catch (OperationCanceledException) when (Connection.Stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    // The server is stopping and this connection is between requests: close it now.
                    return;
                }
                catch (ProtocolViolationException ex)
                {
                    // Puts received whole before the broken frame are committed and answered first: an Error never
                    // overtakes the answers of earlier requests.
                    await CommitPendingAsync(cancellationToken);
                    await TrySendErrorAsync(0, ex.Code, ex.Message, cancellationToken);
                    throw;
                }
            }

            if (frame is null || !await ServeAsync(frame, cancellationToken))
            {
                return;
            }

            // Answers are gathered while more requests are already here, but never held for long: a pipelining
            // client keeps sending only while answers come back.
            if (++_unflushedAnswers >= MaxUnflushedAnswers || (!Reader.HasBufferedData && Connection.Socket.Available == 0))
            {
                await CommitAndFlushAsync(cancellationToken);
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// The client has sent (or is sending) its magic and Hello and waits for the server's magic: it gets the magic
    /// and <c>Error{Unavailable}</c> in place of Welcome, which it reports and may retry later.
    /// </remarks>
    public override async ValueTask RefuseAsync(string reason, CancellationToken cancellationToken)
    {
        await SetupAsync(cancellationToken);
        await Writer.WriteMagicAsync(cancellationToken);
        await Writer.WriteAsync(Messages.Error(0, ErrorCode.Unavailable, $"{reason}; try again later"), cancellationToken);
        await Writer.FlushAsync(cancellationToken);

        // Closing with the client's Hello unread would reset the connection, and a reset can destroy the answer
        // before the client reads it: say that nothing more comes, then let the client close first.
        Connection.Socket.Shutdown(SocketShutdown.Send);
        var buffer = new byte[4096];
        for (int i = 0; i < MaxRefusalDrainReads && await _stream!.ReadAsync(buffer, cancellationToken) > 0; i++)
        {
            // Discarded: a refused client has nothing to say that will be read.
        }
    }

    /// <inheritdoc />
    public override async ValueTask FinishAsync()
    {
        if (_writer is not null)
        {
            try
            {
                // Uploads that were received whole and verified are kept even when the client is gone.
                await CommitAndFlushAsync(Connection.Aborted);
            }
            catch (Exception ex) when (ex is ConnectionLostException or OperationCanceledException)
            {
                // The last answers cannot reach a peer that is gone.
            }

            _writer.Dispose();
        }

        _directories?.Dispose();
        _reader?.Dispose();
        if (_stream is not null)
        {
            await _stream.DisposeAsync();
        }
    }

    private async Task<bool> HandshakeAsync(CancellationToken cancellationToken)
    {
        using var deadline = HandshakeToken(cancellationToken);
        try
        {
            await Reader.ReadMagicAsync(deadline.Token);
            var hello = await Reader.ReadRequiredFrameAsync(deadline.Token);
            await Writer.WriteMagicAsync(deadline.Token);
            if (hello.Type != MessageType.Hello)
            {
                throw new ProtocolViolationException($"expected Hello, got message type 0x{(byte)hello.Type:x2}");
            }

            long version = hello.GetInt64OrNull(FieldTag.Version) ?? throw new ProtocolViolationException("Hello lacks the version");
            if (version < ProtocolLimits.MinVersion)
            {
                throw new FileXferException(ErrorCode.UnsupportedVersion, $"protocol version {version} is not supported; this server speaks {ProtocolLimits.MinVersion} to {ProtocolLimits.Version}");
            }

            long chosen = Math.Min(version, ProtocolLimits.Version);
            // Authentication is announced by a server that requires it, whatever the client offered.
            var capabilities = Messages.Implemented & (Capabilities)(hello.GetUInt64OrNull(FieldTag.Capabilities) ?? 0) & ~Capabilities.Authentication;
            byte[]? serverNonce = null;
            if (options.Authenticator is not null)
            {
                capabilities |= Capabilities.Authentication;
                serverNonce = SecureRandom.GetBytes(ProtocolLimits.AuthBytes);
            }

            _capabilities = capabilities;
            await Writer.WriteAsync(Messages.Welcome((int)chosen, capabilities, options.Agent, _store.Options.MaxFileSize, serverNonce), deadline.Token);
            ServerLog.HandshakeCompleted(logger, Connection.Id, Connection.RemoteEndPoint, RemotePath.Escape(hello.GetStringOrNull(FieldTag.Agent) ?? "unknown"), chosen);
            if (options.Authenticator is { } authenticator
                && !await AuthenticateAsync(authenticator, hello.GetBytesOrNull(FieldTag.ClientNonce), serverNonce!, deadline.Token))
            {
                return false;
            }

            // From here on the connection is no longer a newcomer that a full server evicts for a new one, and reads
            // ahead as far as a frame can be long.
            Connection.MarkEstablished();
            Reader.UseFullBuffer();
            return true;
        }
        catch (OperationCanceledException) when (Connection.Stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (OperationCanceledException) when (Connection.HandshakeDeadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no handshake within {Connection.HandshakeTimeout.TotalSeconds:F0} s of the accept");
        }
        catch (FileXferException ex)
        {
            await TrySendErrorAsync(0, ex.Code, ex.Message, cancellationToken);
            throw;
        }
    }

    /// <summary>
    /// The token of every step of the handshake (TLS, FileXfer's, authentication): cancelled at the connection's one
    /// handshake deadline, counted from the accept, and when the server stops: until the handshake is done there is
    /// no request in flight, so a stop closes the connection at once instead of waiting out the deadline.
    /// </summary>
    private CancellationTokenSource HandshakeToken(CancellationToken cancellationToken) =>
        CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Connection.Stopping, Connection.HandshakeDeadline);

    /// <summary>
    /// The TLS handshake, within the connection's handshake deadline that the FileXfer handshake after it shares: a
    /// peer that opens connections and sends nothing, or a TLS handshake byte by byte, holds a connection for no longer.
    /// </summary>
    private async Task<Stream> AcceptTlsAsync(Stream transport, System.Net.Security.SslStreamCertificateContext certificate, CancellationToken cancellationToken)
    {
        using var deadline = HandshakeToken(cancellationToken);
        try
        {
            if (await TlsAcceptor.AcceptAsync(Connection.Socket, transport, certificate, deadline.Token) is { } tls)
            {
                _tlsState = TlsState.Ready;
                return tls;
            }

            _tlsState = TlsState.Plaintext;
            return transport;
        }
        catch (OperationCanceledException) when (Connection.Stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _tlsState = TlsState.Stopped;
            return transport;
        }
        catch (OperationCanceledException) when (Connection.HandshakeDeadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no TLS handshake within {Connection.HandshakeTimeout.TotalSeconds:F0} s of the accept");
        }
        catch (Exception ex) when (ex is System.Security.Authentication.AuthenticationException or IOException)
        {
            throw new ConnectionLostException($"TLS handshake failed: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Answers a FileXfer client that connected to this TLS server in plaintext: its Hello is read (so that closing
    /// does not reset the connection before the client reads the answer), then the magic and an Error frame that
    /// says what to do, and the connection closes. Nothing else is read or served.
    /// </summary>
    private async Task RefusePlaintextAsync(CancellationToken cancellationToken)
    {
        using var deadline = HandshakeToken(cancellationToken);
        try
        {
            await Reader.ReadMagicAsync(deadline.Token);
            await Reader.ReadRequiredFrameAsync(deadline.Token);
            await Writer.WriteMagicAsync(deadline.Token);
            await TrySendErrorAsync(0, ErrorCode.AuthenticationFailed, TlsRequiredMessage, deadline.Token);
            ServerLog.PlaintextRefused(logger, Connection.Id, Connection.RemoteEndPoint);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The server is stopping, or the peer sent no Hello in time: close without an answer.
        }
        catch (ProtocolViolationException ex)
        {
            // Not a FileXfer client either.
            await TrySendErrorAsync(0, ex.Code, ex.Message, cancellationToken);
            throw;
        }
    }

    /// <summary>
    /// The challenge-response after Welcome: the client must send Authenticate with a token name and its proof
    /// before anything else. A failure is answered only after the throttle's delay (at once for an address that is
    /// locked out), and the connection closes. On success the client's root becomes its token's subtree.
    /// </summary>
    private async Task<bool> AuthenticateAsync(TokenAuthenticator authenticator, byte[]? clientNonce, byte[] serverNonce, CancellationToken cancellationToken)
    {
        var address = Connection.RemoteEndPoint.Address;
        var request = await Reader.ReadRequiredFrameAsync(cancellationToken);
        if (request.Type != MessageType.Authenticate)
        {
            ServerLog.AuthenticationFailed(logger, Connection.Id, Connection.RemoteEndPoint, "(none)", $"{request.Type} request before authenticating");
            await TrySendErrorAsync(request.RequestId, ErrorCode.AuthenticationFailed, "this server requires a token: authenticate before any request", cancellationToken);
            return false;
        }

        var name = request.GetStringOrNull(FieldTag.TokenName) ?? string.Empty;
        var escaped = RemotePath.Escape(name);
        if (authenticator.Throttle.IsLockedOut(address))
        {
            ServerLog.AuthenticationFailed(logger, Connection.Id, Connection.RemoteEndPoint, escaped, "address locked out after too many failed attempts");
            await TrySendErrorAsync(0, ErrorCode.AuthenticationFailed, "too many failed attempts; try again later", cancellationToken);
            return false;
        }

        var proof = request.GetBytesOrNull(FieldTag.Proof);
        TokenEntry? token = null;
        if (clientNonce is { Length: ProtocolLimits.AuthBytes } && proof is { Length: ProtocolLimits.AuthBytes })
        {
            token = authenticator.Verify(name, clientNonce, serverNonce, proof);
        }

        if (token is null)
        {
            // The delay slows guessing down; it runs inside the handshake deadline, like the rest of the exchange.
            // It starts before the failure is logged, so whoever reads the log knows the delay is under way.
            var delay = Task.Delay(authenticator.Throttle.RecordFailure(address), authenticator.Throttle.Options.TimeProvider, cancellationToken);
            ServerLog.AuthenticationFailed(logger, Connection.Id, Connection.RemoteEndPoint, escaped, "unknown token name or wrong secret");
            await delay;
            await TrySendErrorAsync(0, ErrorCode.AuthenticationFailed, "unknown token name or wrong secret", cancellationToken);
            return false;
        }

        _store = _serverStore.ForSubtree(token.Subtree);
        _canWrite = token.Access == TokenAccess.ReadWrite;
        var access = _canWrite ? AccessFlags.Write : AccessFlags.None;
        await Writer.WriteAsync(Messages.AuthenticateOk(AuthProof.ForServer(token.Secret, clientNonce!, serverNonce, name), access), cancellationToken);
        ServerLog.AuthenticationSucceeded(logger, Connection.Id, Connection.RemoteEndPoint, escaped, token.ToString());
        return true;
    }

    private void RequireWrite(string operation)
    {
        if (!_canWrite)
        {
            throw new FileXferException(ErrorCode.AccessDenied, $"permission denied: this token is read-only, {operation} is not allowed");
        }
    }

    private async Task<bool> ServeAsync(Frame frame, CancellationToken cancellationToken)
    {
        long started = Connection.TimeProvider.GetTimestamp();
        var operation = frame.Type.ToString();
        var path = RemotePath.Escape(frame.GetStringOrNull(FieldTag.Path) ?? string.Empty);
        long bytes = 0;
        try
        {
            if (frame.Type != MessageType.Put || ((PutFlags)(frame.GetUInt64OrNull(FieldTag.Flags) ?? 0)).HasFlag(PutFlags.NoWait) is false)
            {
                // Answers go out in request order (a put that waits for Ready is answered at once), and a later
                // request must see the files put before it.
                await CommitPendingAsync(cancellationToken);
            }

            bytes = frame.Type switch
            {
                MessageType.Put => await PutAsync(frame, started, cancellationToken),
                MessageType.Get => await GetAsync(frame, cancellationToken),
                MessageType.Stat => await StatAsync(frame, cancellationToken),
                MessageType.List => await ListAsync(frame, cancellationToken),
                MessageType.Delete => await DeleteAsync(frame, cancellationToken),
                MessageType.Hash => await HashAsync(frame, cancellationToken),
                MessageType.MakeDirectory => await MakeDirectoryAsync(frame, cancellationToken),
                _ => throw new FileXferException(ErrorCode.UnknownMessage, $"message type 0x{(byte)frame.Type:x2} is not a request"),
            };
            if (frame.Type != MessageType.Put)
            {
                // A put is answered and logged when its group is committed.
                ServerLog.RequestCompleted(logger, Connection.Id, frame.RequestId, operation, path, bytes, Elapsed(started));
            }

            return true;
        }
        catch (FileXferException ex)
        {
            ServerLog.RequestFailed(logger, Connection.Id, frame.RequestId, operation, path, ex.Code.ToString(), bytes, Elapsed(started), ex.Message);
            if (_sendingBody)
            {
                // The client is reading body bytes: an error frame would be taken for them. Closing is the message.
                return false;
            }

            // Answers go out in request order: puts received before this one and still waiting for their group
            // commit are answered first (a pipelined put refused at once would otherwise overtake them).
            await CommitPendingAsync(cancellationToken);
            await TrySendErrorAsync(frame.RequestId, ex.Code, ex.Message, cancellationToken);
            return !_inBody && ex.Code is not (ErrorCode.ProtocolViolation or ErrorCode.UnknownMessage);
        }
        catch (ConnectionLostException ex)
        {
            ServerLog.RequestFailed(logger, Connection.Id, frame.RequestId, operation, path, "ConnectionLost", bytes, Elapsed(started), ex.Message);
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ServerLog.RequestCrashed(logger, ex, Connection.Id, frame.RequestId, operation, path);
            await TrySendErrorAsync(frame.RequestId, ErrorCode.Internal, "internal server error", cancellationToken);
            return false;
        }
    }

    private async Task<long> PutAsync(Frame request, long started, CancellationToken cancellationToken)
    {
        var flags = (PutFlags)(request.GetUInt64OrNull(FieldTag.Flags) ?? 0);
        if ((flags & ~(PutFlags.Chunked | PutFlags.NoWait | PutFlags.Resume)) != 0)
        {
            // A body may follow whose framing this version cannot know: the connection cannot go on.
            throw new ProtocolViolationException($"Put has unknown flags 0x{(ulong)flags:x}");
        }

        bool chunked = flags.HasFlag(PutFlags.Chunked);
        bool noWait = flags.HasFlag(PutFlags.NoWait);
        bool resume = flags.HasFlag(PutFlags.Resume);
        long? size = request.GetSizeOrNull(FieldTag.Size);
        if (size is null && !chunked)
        {
            throw new ProtocolViolationException("a Put with a fixed-length body needs its Size");
        }

        if (resume && (chunked || noWait))
        {
            throw new ProtocolViolationException("a resumable Put has a fixed-length body sent after Ready");
        }

        PendingUpload upload;
        ContentHasher hasher;
        try
        {
            RequireWrite("put");
            var algorithm = RequireAlgorithm(request);
            var resumeKey = resume ? request.GetBytesOrNull(FieldTag.ResumeKey) : null;
            if (resumeKey is not null)
            {
                // A retry whose first connection is not known to be gone yet (it stalled, or vanished without closing)
                // takes that connection's partial over: the old upload is abandoned at once, and this one resumes it.
                await _store.TakeOverResumeKeyAsync(resumeKey, request.GetString(FieldTag.Path), ResumeKeyWait, Connection.TimeProvider, cancellationToken);
            }

            if (_directories is null && Posix.CanLocateHandles)
            {
                _directories = new DirectoryHandles();
            }

            upload = _store.BeginUpload(request.GetString(FieldTag.Path), size, size ?? 0, resumeKey, _directories, deferCheck: noWait);
            hasher = HashAlgorithms.Create(algorithm);
        }
        catch (FileXferException) when (noWait)
        {
            // The body is already on its way: read past it so the next request can be served, then refuse.
            await DiscardBodyAsync(request.RequestId, chunked, size ?? 0, cancellationToken);
            throw;
        }

        bool queued = false;

        // A resumable upload is abandoned when a newer connection takes its partial over (FileStore.TakeOverResumeKeyAsync).
        using var revocable = upload.Revoked.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, upload.Revoked) : null;
        var receiving = revocable?.Token ?? cancellationToken;
        try
        {
            var modified = Messages.ReadModified(request);
            var mode = Messages.ReadMode(request);
            long start = 0;
            if (resume && upload.IsResumable)
            {
                (start, hasher) = await OfferResumeAsync(request, upload, hasher, size!.Value, receiving);
            }
            else if (!noWait)
            {
                await Writer.WriteAsync(Messages.Ready(request.RequestId, 0), receiving);
                if (resume)
                {
                    // No partial could be kept for this upload (its key is busy): the client still says where to start.
                    await ReadResumeFromAsync(request.RequestId, 0, receiving);
                }
            }

            _inBody = true;
            long received;
            if (chunked)
            {
                var body = await Reader.CopyChunkedBodyToAsync(upload.Body, size ?? _store.Options.MaxFileSize, hasher, progress: null, receiving);
                if (body.Aborted)
                {
                    _inBody = false;
                    throw new FileXferException(ErrorCode.TransferAborted, $"the client abandoned the upload of '{RemotePath.Escape(upload.Path)}' after {body.Length} bytes; nothing was stored");
                }

                received = body.Length;
            }
            else
            {
                await Reader.CopyBodyToAsync(upload.Body, size!.Value - start, hasher, progress: null, receiving);
                received = size.Value;
            }

            var senderHash = await ReadBodyEndAsync(request.RequestId, hasher.Name, receiving);
            _inBody = false;
            var receivedHash = hasher.GetHashAndReset();
            upload.Seal(received, receivedHash, senderHash, modified, mode, hasher.Name);
            _pendingCommits.Add(new PendingCommit(upload, request.RequestId, started, hasher.Name, receivedHash));
            queued = true;
            if (_pendingCommits.Count >= MaxGroupCommit)
            {
                await CommitPendingAsync(cancellationToken);
            }

            return received;
        }
        catch (OperationCanceledException ex) when (upload.Revoked.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Its partial is kept as it is, for the newer connection; this one is presumed dead and closes.
            throw new ConnectionLostException($"the upload of '{RemotePath.Escape(upload.Path)}' was taken over by a newer connection resuming it", ex);
        }
        finally
        {
            hasher.Dispose();
            if (!queued)
            {
                await upload.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Durable group commit: the sealed uploads are flushed to disk together, renamed into place, their
    /// directories synced once, and only then answered. Runs before any answer is sent and before any other
    /// request is served, so no client hears "ok" for a file that is not durably stored under its name.
    /// </summary>
    private async Task CommitPendingAsync(CancellationToken cancellationToken)
    {
        if (_pendingCommits.Count == 0)
        {
            return;
        }

        var group = _pendingCommits.ToArray();
        _pendingCommits.Clear();
        var results = FileStore.CommitGroup([.. group.Select(c => c.Upload)]);
        for (int i = 0; i < group.Length; i++)
        {
            var (upload, requestId, started, algorithm, hash) = group[i];
            var path = RemotePath.Escape(upload.Path);
            if (results[i] is { } failure)
            {
                ServerLog.RequestFailed(logger, Connection.Id, requestId, nameof(MessageType.Put), path, failure.Code.ToString(), upload.Size, Elapsed(started), failure.Message);
                await Writer.WriteAsync(Messages.Error(requestId, failure.Code, failure.Message), cancellationToken);
            }
            else
            {
                ServerLog.RequestCompleted(logger, Connection.Id, requestId, nameof(MessageType.Put), path, upload.Size, Elapsed(started));
                await Writer.WriteAsync(Messages.HashOk(requestId, upload.Path, upload.Size, algorithm, hash), cancellationToken);
            }
        }
    }

    private async Task CommitAndFlushAsync(CancellationToken cancellationToken)
    {
        await CommitPendingAsync(cancellationToken);
        await Writer.FlushAsync(cancellationToken);
        _unflushedAnswers = 0;
    }

    /// <summary>
    /// The reader needs more bytes. When the client has sent none yet, it may be waiting for answers: commit and
    /// answer now. When bytes are already on their way, keep gathering (a larger group is a cheaper commit).
    /// </summary>
    private Task BeforeBlockingReadAsync(CancellationToken cancellationToken) =>
        Connection.Socket.Available > 0 && _unflushedAnswers < MaxUnflushedAnswers
            ? Task.CompletedTask
            : CommitAndFlushAsync(cancellationToken);

    /// <summary>
    /// Tells a resuming client how many bytes of its upload are held and their hash, then reads where the client
    /// chose to start: after the held bytes when it proved them equal to its own, else at 0.
    /// </summary>
    private async Task<(long Start, ContentHasher Hasher)> OfferResumeAsync(Frame request, PendingUpload upload, ContentHasher hasher, long size, CancellationToken cancellationToken)
    {
        long held = upload.HeldBytes;
        if (held > size)
        {
            held = 0;
        }

        await upload.HashPrefixAsync(held, hasher, cancellationToken);
        await Writer.WriteAsync(Messages.Ready(request.RequestId, held, hasher.Name, hasher.GetCurrentHash()), cancellationToken);
        long start = await ReadResumeFromAsync(request.RequestId, held, cancellationToken);
        upload.ContinueAt(start);
        if (start == held)
        {
            return (start, hasher);
        }

        // The client's bytes differ from the held ones: start over with a fresh hash.
        var fresh = HashAlgorithms.Create(hasher.Name);
        hasher.Dispose();
        return (0, fresh);
    }

    private async Task<long> ReadResumeFromAsync(uint requestId, long held, CancellationToken cancellationToken)
    {
        var frame = await Reader.ReadRequiredFrameAsync(cancellationToken);
        if (frame.Type != MessageType.ResumeFrom || frame.RequestId != requestId)
        {
            throw new ProtocolViolationException($"expected ResumeFrom for request {requestId}, got {frame}");
        }

        long start = frame.GetSize(FieldTag.Offset);
        return start == 0 || start == held
            ? start
            : throw new ProtocolViolationException($"ResumeFrom offset {start} is neither 0 nor the {held} bytes held");
    }

    private async Task DiscardBodyAsync(uint requestId, bool chunked, long size, CancellationToken cancellationToken)
    {
        _inBody = true;
        if (chunked)
        {
            if ((await Reader.DiscardChunkedBodyAsync(cancellationToken)).Aborted)
            {
                _inBody = false;
                return;
            }
        }
        else
        {
            await Reader.DiscardBodyAsync(size, cancellationToken);
        }

        await ReadBodyEndAsync(requestId, expectedAlgorithm: null, cancellationToken);
        _inBody = false;
    }

    private async Task<byte[]> ReadBodyEndAsync(uint requestId, string? expectedAlgorithm, CancellationToken cancellationToken)
    {
        var end = await Reader.ReadRequiredFrameAsync(cancellationToken);
        if (end.Type != MessageType.BodyEnd || end.RequestId != requestId)
        {
            throw new ProtocolViolationException($"expected BodyEnd for request {requestId}, got {end}");
        }

        if (expectedAlgorithm is not null && end.GetString(FieldTag.HashAlgorithm) != expectedAlgorithm)
        {
            throw new ProtocolViolationException("BodyEnd names a different hash algorithm than its Put");
        }

        return end.GetBytes(FieldTag.HashValue);
    }

    private async Task<long> GetAsync(Frame request, CancellationToken cancellationToken)
    {
        var algorithm = RequireAlgorithm(request);
        await using var file = _store.OpenRead(request.GetString(FieldTag.Path), out var entry);
        var hasher = HashAlgorithms.Create(algorithm);
        // The size is taken once, from the open file, and exactly that many bytes are sent.
        long size = file.Length;
        long start = 0;
        if (request.GetSizeOrNull(FieldTag.Offset) is > 0 and var offset && offset <= size && request.GetBytesOrNull(FieldTag.HashValue) is { } proof)
        {
            // A resuming client holds the first bytes: continue after them only if they hash the same here.
            await BodyCopier.CopyExactlyAsync(file, Stream.Null, offset, hasher, progress: null, cancellationToken);
            if (System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(hasher.GetCurrentHash(), proof))
            {
                start = offset;
            }
            else
            {
                hasher.Dispose();
                hasher = HashAlgorithms.Create(algorithm);
                file.Position = 0;
            }
        }

        using var wholeFileHasher = hasher;

        // A file stored with its verified hash is not hashed again: it goes from the page cache to the socket (sendfile) or
        // through a buffer, and the client checks what arrives against the hash it was stored with. That also catches a
        // file that rotted at rest, which hashing it again here, as it is sent, would not.
        var storedHash = size - start >= StoredHash.MinimumSize ? StoredHash.Lookup(file.Handle, algorithm, size) : null;
        await Writer.WriteAsync(Messages.Data(request.RequestId, size, algorithm, entry.ModifiedUtc, entry.Mode, start), cancellationToken);
        _inBody = _sendingBody = true;
        try
        {
            if (storedHash is not null)
            {
                if (_zeroCopy)
                {
                    await Writer.FlushAsync(cancellationToken);
                    await FileSender.SendAsync(Connection.Socket, file.File, start, size - start, options.IdleTimeout, Connection.TimeProvider, cancellationToken);
                }
                else
                {
                    file.Position = start;
                    await Writer.WriteUnhashedBodyAsync(file, size - start, cancellationToken);
                }

                await Writer.WriteAsync(Messages.BodyEnd(request.RequestId, algorithm, storedHash), cancellationToken);
            }
            else
            {
                await Writer.WriteBodyAsync(file, size - start, hasher, request.RequestId, progress: null, cancellationToken);
            }
        }
        catch (EndOfStreamException ex)
        {
            throw new FileXferException(ErrorCode.SizeMismatch, "the stored file shrank while it was being sent", ex);
        }

        _inBody = _sendingBody = false;
        return size;
    }

    private async Task<long> StatAsync(Frame request, CancellationToken cancellationToken)
    {
        var entry = _store.Stat(request.GetString(FieldTag.Path));
        await Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, entry), cancellationToken);
        return 0;
    }

    private async Task<long> ListAsync(Frame request, CancellationToken cancellationToken)
    {
        var flags = (ListFlags)(request.GetUInt64OrNull(FieldTag.Flags) ?? 0);
        var path = request.GetString(FieldTag.Path);
        bool recursive = flags.HasFlag(ListFlags.Recursive);
        var nameTag = recursive ? FieldTag.Path : FieldTag.Name;
        bool reportOmitted = _capabilities.HasFlag(Capabilities.ListOmissions);

        // The first level is read before anything is sent, so a bad path is answered with a plain error. Entries
        // are examined and sent as they are enumerated: a listing holds one directory's names, not the tree.
        var entries = recursive ? _store.ListTree(path) : _store.List(path);
        using var enumerator = entries.GetEnumerator();
        bool more = enumerator.MoveNext();
        long count = 0;
        _inBody = true;
        while (more)
        {
            var listed = enumerator.Current;
            if (listed.Omitted is null)
            {
                await Writer.WriteAsync(Messages.Describe(MessageType.Entry, request.RequestId, listed.Entry, nameTag), cancellationToken);
                count++;
            }
            else if (reportOmitted)
            {
                await Writer.WriteAsync(Messages.Omitted(request.RequestId, RemotePath.Escape(listed.Entry.Name), listed.Entry.Kind, listed.Omitted), cancellationToken);
            }

            more = enumerator.MoveNext();
        }

        _inBody = false;
        await Writer.WriteAsync(Messages.EndOfList(request.RequestId, count), cancellationToken);
        return 0;
    }

    private async Task<long> MakeDirectoryAsync(Frame request, CancellationToken cancellationToken)
    {
        RequireWrite("mkdir");
        var modified = Messages.ReadModified(request);
        var mode = Messages.ReadMode(request);
        var entry = _store.MakeDirectory(request.GetString(FieldTag.Path), modified, mode);
        await Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, entry), cancellationToken);
        return 0;
    }

    private async Task<long> DeleteAsync(Frame request, CancellationToken cancellationToken)
    {
        RequireWrite("rm");
        var entry = _store.Delete(request.GetString(FieldTag.Path));
        await Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, entry), cancellationToken);
        return 0;
    }

    private async Task<long> HashAsync(Frame request, CancellationToken cancellationToken)
    {
        var algorithm = RequireAlgorithm(request);
        await using var file = _store.OpenRead(request.GetString(FieldTag.Path), out var entry);
        using var hasher = HashAlgorithms.Create(algorithm);
        var buffer = ArrayPool<byte>.Shared.Rent(HashBufferSize);
        long total = 0;
        try
        {
            int read;
            while ((read = await file.ReadAsync(buffer.AsMemory(0, HashBufferSize), cancellationToken)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, read));
                total += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        await Writer.WriteAsync(Messages.HashOk(request.RequestId, entry.Name, total, algorithm, hasher.GetHashAndReset()), cancellationToken);
        return total;
    }

    private static string RequireAlgorithm(Frame request)
    {
        var algorithm = request.GetStringOrNull(FieldTag.HashAlgorithm) ?? HashAlgorithms.Default;
        return HashAlgorithms.IsSupported(algorithm)
            ? algorithm
            : throw new FileXferException(ErrorCode.UnsupportedHashAlgorithm, $"hash algorithm '{RemotePath.Escape(algorithm)}' is not supported; use one of {string.Join(", ", HashAlgorithms.Supported)}");
    }

    private async Task TrySendErrorAsync(uint requestId, ErrorCode code, string message, CancellationToken cancellationToken)
    {
        try
        {
            await Writer.WriteAsync(Messages.Error(requestId, code, message), cancellationToken);
            await Writer.FlushAsync(cancellationToken);
        }
        catch (ConnectionLostException)
        {
            // The peer is gone; there is no one left to tell.
        }
    }

    /// <summary>What the TLS set-up found.</summary>
    private enum TlsState
    {
        /// <summary>TLS is off, or its handshake is done.</summary>
        Ready,

        /// <summary>TLS is on, but the client spoke plaintext: it is refused.</summary>
        Plaintext,

        /// <summary>The server stopped during the TLS handshake: close.</summary>
        Stopped,
    }

    private readonly record struct PendingCommit(PendingUpload Upload, uint RequestId, long Started, string Algorithm, byte[] Hash);

    private double Elapsed(long started) => Connection.TimeProvider.GetElapsedTime(started).TotalMilliseconds;
}
