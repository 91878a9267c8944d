using System.Net.Sockets;
using FileXfer.Protocol.Net;
using FileXfer.Protocol.Security;
using FileXfer.Server.Hosting;
using FileXfer.Server.Security;
using FileXfer.Server.Storage;

namespace FileXfer.Server.Handlers;

/// <summary>The start of a connection: TLS, the FileXfer handshake and authentication, within one deadline counted from the accept.</summary>
public sealed partial class FileXferRequestHandler
{
    private async Task<bool> HandshakeAsync(CancellationToken cancellationToken)
    {
        using var deadline = HandshakeToken(cancellationToken);
        try
        {
            // Under TLS the first byte was looked at before its handshake (AcceptTlsAsync).
            if (options.Tls is null && await FirstByte.PeekAsync(Connection.Socket, deadline.Token) is null)
            {
                // Closed before the first byte of the magic: a probe (a load balancer's TCP health check, a connection its
                // client opened ahead and gave up), not a failed handshake. A close after part of the magic still is one.
                ServerLog.ClosedBeforeSending(logger, Connection.Id, Connection.RemoteEndPoint);
                return false;
            }

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
            if (!options.Compression)
            {
                capabilities &= ~Capabilities.Compression;
            }

            if (!options.DirectoryTimes || !Store.SetsParentTimes)
            {
                // Its directories' times do not change as entries are added (the S3 store's markers): nothing to set back.
                capabilities &= ~Capabilities.DirectoryTimes;
            }

            if (!options.WorkingBeats)
            {
                capabilities &= ~Capabilities.WorkingBeats;
            }

            if (!options.ParallelStreams || Store is not IRangedUploads)
            {
                // A store that cannot write ranges in place (the object store) gets each file over one connection.
                capabilities &= ~(Capabilities.ParallelStreams | Capabilities.EagerRanges);
            }

            byte[]? serverNonce = null;
            if (options.Authenticator is not null)
            {
                capabilities |= Capabilities.Authentication;
                serverNonce = SecureRandom.GetBytes(ProtocolLimits.AuthBytes);
            }

            _capabilities = capabilities;
            _ticket = RunTicket.Read(hello);
            if (options.Authenticator is null && _ticket is { } ticket)
            {
                // Before Welcome: every request of this connection comes after the declaration it carries.
                await JoinRunAsync(Store, string.Empty, ticket, deadline.Token);
            }

            var early = options.Authenticator is { } checker ? await TryEarlyAuthenticationAsync(checker, hello, deadline.Token) : EarlyOutcome.NotTried;
            if (early == EarlyOutcome.Failed)
            {
                return false;
            }

            // A Welcome that ends the handshake (no authentication, or early authentication accepted) is sent only to a
            // connection still admitted; from then on it is no longer a newcomer that a full server evicts for a new one.
            bool final = early is EarlyOutcome.Accepted || options.Authenticator is null;
            if (final && !Connection.TryMarkEstablished())
            {
                return false;
            }

            if (early is EarlyOutcome.Accepted { } accepted)
            {
                await Writer.WriteAsync(Messages.Welcome((int)chosen, capabilities, options.Agent, Store.MaxFileSize, accepted.ServerProof, accepted.Access), deadline.Token);
            }
            else
            {
                await Writer.WriteAsync(Messages.Welcome((int)chosen, capabilities, options.Agent, Store.MaxFileSize, serverNonce), deadline.Token);
            }

            ServerLog.HandshakeCompleted(logger, Connection.Id, Connection.RemoteEndPoint, RemotePath.Escape(hello.GetStringOrNull(FieldTag.Agent) ?? "unknown"), chosen);
            if (options.Authenticator is { } authenticator && early is not EarlyOutcome.Accepted
                && !await AuthenticateAsync(authenticator, hello.GetBytesOrNull(FieldTag.ClientNonce), serverNonce!, deadline.Token))
            {
                return false;
            }

            // Established (above, or before the Authenticate's answer): it reads ahead as far as a frame can be long.
            Reader.UseFullBuffer();
            return true;
        }
        catch (OperationCanceledException) when (Connection.Stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (OperationCanceledException) when (Connection.HandshakeDeadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no handshake within {Connection.HandshakeTimeout.TotalSeconds:0.###} s of the accept");
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
    /// A peer that closes before its first byte is a probe (<see cref="TlsState.Silent"/>).
    /// </summary>
    private async Task<Stream> AcceptTlsAsync(Stream transport, System.Net.Security.SslStreamCertificateContext certificate, CancellationToken cancellationToken)
    {
        using var deadline = HandshakeToken(cancellationToken);
        try
        {
            if (await FirstByte.PeekAsync(Connection.Socket, deadline.Token) is not { } first)
            {
                _tlsState = TlsState.Silent;
                return transport;
            }

            if (await TlsAcceptor.AcceptAsync(first, transport, certificate, deadline.Token) is { } tls)
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
            throw new TimeoutException($"no TLS handshake within {Connection.HandshakeTimeout.TotalSeconds:0.###} s of the accept");
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
            options.Metrics?.AuthenticationFailed("no_authentication");
            await RefuseAuthenticationAsync(request.RequestId, "this server requires a token: authenticate before any request", cancellationToken);
            return false;
        }

        var name = request.GetStringOrNull(FieldTag.TokenName) ?? string.Empty;
        var escaped = RemotePath.Escape(name);
        if (authenticator.Throttle.IsLockedOut(address))
        {
            ServerLog.AuthenticationFailed(logger, Connection.Id, Connection.RemoteEndPoint, escaped, "address locked out after too many failed attempts");
            options.Metrics?.AuthenticationFailed("locked_out");
            await RefuseAuthenticationAsync(0, "too many failed attempts; try again later", cancellationToken);
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
            options.Metrics?.AuthenticationFailed("wrong_token");
            await delay;
            await RefuseAuthenticationAsync(0, "unknown token name or wrong secret", cancellationToken);
            return false;
        }

        var session = store.OpenSession(token.Subtree);
        await Store.DisposeAsync();
        _store = session;
        _token = token;
        if (_ticket is { } ticket)
        {
            // Within the token: one token's client cannot fence another's. Before the answer, as without a token.
            await JoinRunAsync(session, name, ticket, cancellationToken);
        }

        _canWrite = token.Access == TokenAccess.ReadWrite;
        var access = _canWrite ? AccessFlags.Write : AccessFlags.None;
        // The run's later connections may authenticate in their Hello over this connection's nonce: its ticket.
        TimeSpan? ticketLifetime = _capabilities.HasFlag(Capabilities.EarlyAuthentication) && _ticket is { } run
            && authenticator.Tickets.Issue(name, run.RunId, run.Number, serverNonce) ? RunTickets.Lifetime : null;
        if (!Connection.TryMarkEstablished())
        {
            // Evicted for a newer connection while it authenticated: no answer, the connection closes.
            return false;
        }

        await Writer.WriteAsync(Messages.AuthenticateOk(AuthProof.ForServer(token.Secret, clientNonce!, serverNonce, name), access, ticketLifetime), cancellationToken);
        ServerLog.AuthenticationSucceeded(logger, Connection.Id, Connection.RemoteEndPoint, escaped, token.ToString());
        return true;
    }

    /// <summary>
    /// Answers a failed authentication with <c>Error{AuthenticationFailed}</c>; the connection then closes through
    /// <see cref="DropRequestsAfterRefusalAsync"/>, and nothing the client sent after it is read as a request.
    /// </summary>
    private async Task RefuseAuthenticationAsync(uint requestId, string message, CancellationToken cancellationToken)
    {
        _authenticationRefused = true;
        await TrySendErrorAsync(requestId, ErrorCode.AuthenticationFailed, message, cancellationToken);
    }

    /// <summary>
    /// After a refused authentication: requests the client sent behind its Authenticate (PipelinedAuthentication) may
    /// still be in the socket's receive queue, and closing with received data unread sends a reset, which can destroy the
    /// Error in the client's receive queue before it reads it. As for a refused connection (<see cref="RefuseAsync"/>):
    /// the server says that nothing more comes, reads and drops what arrives after what it had read already (never parsed, never acted upon) until the
    /// client closes its side, and closes after <see cref="RefusedDrainTime"/> or <see cref="MaxRefusedDrainBytes"/> at most.
    /// </summary>
    private async Task DropRequestsAfterRefusalAsync(CancellationToken cancellationToken)
    {
        long dropped = 0;
        string ending = "the client closed";
        try
        {
            Connection.Socket.Shutdown(SocketShutdown.Send);
            using var bound = new LinkedTimeoutSource(RefusedDrainTime, Connection.TimeProvider, cancellationToken);
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await _stream!.ReadAsync(buffer, bound.Token)) > 0)
            {
                dropped += read;
                if (dropped >= MaxRefusedDrainBytes)
                {
                    ending = "too much sent";
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            ending = "time up";
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // The client is gone: nothing is left to protect its Error from.
            ending = "the connection ended";
        }

        ServerLog.RefusedRequestsDropped(logger, Connection.Id, dropped, ending);
    }

    /// <summary>What became of a Hello's early authentication.</summary>
    private abstract record EarlyOutcome
    {
        /// <summary>The Hello carried no proof over a ticket, or the ticket cannot serve (unknown, expired, replayed): the challenge follows.</summary>
        public static readonly EarlyOutcome NotTried = new Fallback();

        /// <summary>The proof was wrong: answered like a failed Authenticate, and the connection closes.</summary>
        public static readonly EarlyOutcome Failed = new Refused();

        public sealed record Accepted(byte[] ServerProof, AccessFlags Access) : EarlyOutcome;

        private sealed record Fallback : EarlyOutcome;

        private sealed record Refused : EarlyOutcome;
    }

    /// <summary>
    /// Early authentication: a later connection of a run proves its token in the Hello over the run's ticket (the
    /// nonce of the run's connection that authenticated by the challenge), its own nonce and its connection number.
    /// A live ticket, a number not used with it before and a right proof authenticate the connection without the
    /// Authenticate round trip; a ticket that cannot serve (none here, expired, that number already used, or an
    /// address locked out) leaves the challenge to follow as for any client; a wrong proof is a failed
    /// authentication, delayed and counted by the throttle like a wrong Authenticate.
    /// </summary>
    private async Task<EarlyOutcome> TryEarlyAuthenticationAsync(TokenAuthenticator authenticator, Frame hello, CancellationToken cancellationToken)
    {
        if (!_capabilities.HasFlag(Capabilities.EarlyAuthentication) || _ticket is not { } run
            || hello.GetBytesOrNull(FieldTag.Proof) is not { } proof || hello.GetStringOrNull(FieldTag.TokenName) is not { } name)
        {
            return EarlyOutcome.NotTried;
        }

        var address = Connection.RemoteEndPoint.Address;
        var escaped = RemotePath.Escape(name);
        var found = authenticator.Tickets.Find(name, run.RunId, run.Number, out var ticketNonce);
        if (authenticator.Throttle.IsLockedOut(address) || found != RunTickets.Lookup.Found
            || hello.GetBytesOrNull(FieldTag.ClientNonce) is not { Length: ProtocolLimits.AuthBytes } clientNonce)
        {
            ServerLog.TicketRefused(logger, Connection.Id, escaped, run.Number, authenticator.Throttle.IsLockedOut(address) ? "address locked out" : found == RunTickets.Lookup.Found ? "no 32-byte client nonce" : found.ToString().ToLowerInvariant());
            return EarlyOutcome.NotTried;
        }

        var token = proof.Length == ProtocolLimits.AuthBytes ? authenticator.VerifyRun(name, clientNonce, ticketNonce, run.RunId, run.Number, proof) : null;
        if (token is null)
        {
            var delay = Task.Delay(authenticator.Throttle.RecordFailure(address), authenticator.Throttle.Options.TimeProvider, cancellationToken);
            ServerLog.AuthenticationFailed(logger, Connection.Id, Connection.RemoteEndPoint, escaped, "wrong proof over the run's ticket");
            options.Metrics?.AuthenticationFailed("wrong_token");
            await delay;
            await RefuseAuthenticationAsync(0, "unknown token name or wrong secret", cancellationToken);
            return EarlyOutcome.Failed;
        }

        if (!authenticator.Tickets.TryConsume(name, run.RunId, run.Number, ticketNonce!))
        {
            // Another connection with the same number was accepted meanwhile: the second is a replay.
            ServerLog.TicketRefused(logger, Connection.Id, escaped, run.Number, "replayed");
            return EarlyOutcome.NotTried;
        }

        var session = store.OpenSession(token.Subtree);
        await Store.DisposeAsync();
        _store = session;
        _token = token;
        await JoinRunAsync(session, name, run, cancellationToken);
        _canWrite = token.Access == TokenAccess.ReadWrite;
        ServerLog.TicketAccepted(logger, Connection.Id, Connection.RemoteEndPoint, escaped, token.ToString(), run.Number);
        return new EarlyOutcome.Accepted(
            AuthProof.ForRunServer(token.Secret, clientNonce, ticketNonce, run.RunId, run.Number, name),
            _canWrite ? AccessFlags.Write : AccessFlags.None);
    }

    /// <summary>Places the connection in its client's run; the connections its Hello declares abandoned are fenced from here on.</summary>
    private async Task JoinRunAsync(IStoreSession session, string scope, RunTicket ticket, CancellationToken cancellationToken)
    {
        await session.JoinRunAsync(scope, ticket, cancellationToken);
        if (ticket.Abandoned.Count > 0)
        {
            ServerLog.AbandonedDeclared(logger, Connection.Id, ticket.Abandoned.Count, string.Join(',', ticket.Abandoned));
        }
    }
}
