using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;
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
public sealed partial class FileXferRequestHandler(
    ConnectionContext connection,
    IStore store,
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

    // After a refused authentication, what the client sent behind it is read and dropped for this long at most (its Error
    // must not be destroyed by the reset of a close with unread data), and no more than this much.
    private static readonly TimeSpan RefusedDrainTime = TimeSpan.FromSeconds(2);
    private const long MaxRefusedDrainBytes = 16L * 1024 * 1024;

    // How long a resuming put waits for an earlier connection, told to abandon its upload, to let go of its partial.
    private static readonly TimeSpan ResumeKeyWait = TimeSpan.FromSeconds(2);

    private readonly List<PendingCommit> _pendingCommits = [];

    // The capabilities both sides announced, known once the handshake is done.
    private Capabilities _capabilities;

    // A stored file is sent with the hash recorded when it was stored, rather than hashed again, from this size on.
    private const long StoredHashFrom = 1024 * 1024;

    // The store as this client sees it: the whole store, or its token's subtree once authenticated.
    private IStoreSession? _store;

    // The token this client authenticated with (null without tokens): its name and its subtree, the session's root.
    private TokenEntry? _token;

    // False for a read-only token: put, delete and make directory are refused.
    private bool _canWrite = true;

    private GuardedNetworkStream? _stream;
    private TlsState _tlsState;
    private int _unflushedAnswers;
    private ProtocolReader? _reader;
    private FrameWriter? _writer;

    // True while a body is on the wire: a failure then leaves the byte stream out of step, so the connection closes.
    private bool _inBody;

    // True while this side sends a body: then not even an error frame can be sent.
    private bool _sendingBody;

    // True once the handshake refused the client's authentication: the connection closes without reading another frame.
    private bool _authenticationRefused;

    // This connection's place in its client's run, from its Hello (null for a client older than the fence).
    private RunTicket? _ticket;

    // Stored files are sent with sendfile(2) (see FileXferHandlerOptions.SendFile): a plain TCP connection (no TLS) on Linux.
    private bool _zeroCopy;

    private IStoreSession Store => _store ?? throw new InvalidOperationException("SetupAsync was not called");

    private ProtocolReader Reader => _reader ?? throw new InvalidOperationException("SetupAsync was not called");

    private FrameWriter Writer => _writer ?? throw new InvalidOperationException("SetupAsync was not called");

    /// <inheritdoc />
    public override async ValueTask SetupAsync(CancellationToken cancellationToken)
    {
        _store ??= store.OpenSession(string.Empty);

        // Small frames (Ready, Ok) must not wait on Nagle's algorithm.
        Connection.Socket.NoDelay = true;
        options.Tcp.Apply(Connection.Socket);
        Stream transport = new NetworkStream(Connection.Socket, ownsSocket: false);
        if (options.Tls is { } certificate)
        {
            transport = await AcceptTlsAsync(transport, certificate, cancellationToken);
        }

        if (options.BandwidthLimit is { } rate)
        {
            transport = new ThrottledStream(transport, new TokenBucket(rate, time: Connection.TimeProvider));
        }

        _stream = new GuardedNetworkStream(transport)
        {
            IdleTimeout = options.IdleTimeout,
            TimeProvider = Connection.TimeProvider,
            Socket = options.Tls is null ? Connection.Socket : null,
        };
        _zeroCopy = OperatingSystem.IsLinux() && options.Tls is null && options.BandwidthLimit is null && options.SendFile switch
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

        if (_tlsState == TlsState.Silent)
        {
            ServerLog.ClosedBeforeSending(logger, Connection.Id, Connection.RemoteEndPoint);
            return;
        }

        if (_tlsState == TlsState.Plaintext)
        {
            await RefusePlaintextAsync(cancellationToken);
            return;
        }

        if (!await HandshakeAsync(cancellationToken))
        {
            if (_authenticationRefused)
            {
                await DropRequestsAfterRefusalAsync(cancellationToken);
            }

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

            if (frame is not null && Store.IsAbandoned)
            {
                // A later connection of the client's run declared this one given up: what it still sends is stale
                // (the client retried it), and carried out now it could undo what the retry and later clients stored.
                await CommitPendingAsync(cancellationToken);
                ServerLog.ConnectionAbandoned(logger, Connection.Id, frame.Type.ToString(), frame.RequestId);
                return;
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

        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        _reader?.Dispose();
        if (_stream is not null)
        {
            await _stream.DisposeAsync();
        }
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
                MessageType.Assemble => await AssembleAsync(frame, started, cancellationToken),
                _ => throw new FileXferException(ErrorCode.UnknownMessage, $"message type 0x{(byte)frame.Type:x2} is not a request"),
            };
            if (frame.Type is not (MessageType.Put or MessageType.Assemble))
            {
                // A put is answered and logged when its group is committed (a range of one when it checked out).
                ServerLog.RequestCompleted(logger, Connection.Id, frame.RequestId, operation, path, bytes, Elapsed(started));
                options.Metrics?.RequestCompleted(operation, "ok", bytes, Connection.TimeProvider.GetElapsedTime(started));
            }

            return true;
        }
        catch (FileXferException ex)
        {
            ServerLog.RequestFailed(logger, Connection.Id, frame.RequestId, operation, path, ex.Code.ToString(), bytes, Elapsed(started), ex.Message);
            options.Metrics?.RequestCompleted(operation, ex.Code.ToString(), bytes, Connection.TimeProvider.GetElapsedTime(started));
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
            options.Metrics?.RequestCompleted(operation, "ConnectionLost", bytes, Connection.TimeProvider.GetElapsedTime(started));
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ServerLog.RequestCrashed(logger, ex, Connection.Id, frame.RequestId, operation, path);
            options.Metrics?.RequestCompleted(operation, nameof(ErrorCode.Internal), bytes, Connection.TimeProvider.GetElapsedTime(started));
            await TrySendErrorAsync(frame.RequestId, ErrorCode.Internal, "internal server error", cancellationToken);
            return false;
        }
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

        /// <summary>TLS is on, and the peer closed before sending anything (a probe): close.</summary>
        Silent,
    }

    private double Elapsed(long started) => Connection.TimeProvider.GetElapsedTime(started).TotalMilliseconds;
}
