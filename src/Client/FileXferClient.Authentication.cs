using FileXfer.Protocol.Security;

namespace FileXfer.Client;

/// <summary>
/// Authentication: the proof a Hello carried over the run's ticket, and the challenge, whose Ok is read either at once
/// or, when the server takes requests behind Authenticate (<see cref="Capabilities.PipelinedAuthentication"/>), as the
/// first answer on the connection: the first requests travel with the Authenticate instead of a round trip after it.
/// Until that Ok is read and its proof checked, nothing it carries is believed: <see cref="IsAuthenticated"/> is false,
/// <see cref="Access"/> is not known (<see cref="WhenAuthenticatedAsync"/> waits for it), no ticket is taken from it, and
/// the Hello's declarations of abandoned connections do not count as made.
/// </summary>
public sealed partial class FileXferClient
{
    // The challenge's Ok not read yet: set from the Authenticate until the Ok (or its failure) is read.
    private PendingOk? _pendingOk;

    // Completed when the challenge's Ok was read, whatever it said; _authenticationFailure then holds a failure.
    private readonly TaskCompletionSource _authenticationSettled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _authenticationFailure;

    // True once an Authenticate was sent: its Ok settles the authentication (a reader may be reading it right now).
    private bool _challenged;

    /// <summary>
    /// Completes once the server's authentication is settled: at once on a server without tokens, after early
    /// authentication, or when the challenge's Ok was read; otherwise it waits for that Ok (reading it when nothing else
    /// holds the connection, else for the request that reads it as its first answer). Then <see cref="IsAuthenticated"/>,
    /// <see cref="Access"/> and the run's ticket are those the server granted.
    /// </summary>
    /// <exception cref="FileXferException">With <see cref="ErrorCode.AuthenticationFailed"/>: the server refused the token, or could not prove it knows it.</exception>
    public async Task WhenAuthenticatedAsync(CancellationToken cancellationToken)
    {
        if (_authenticationFailure is { } failed)
        {
            throw failed;
        }

        if (_challenged && !_authenticationSettled.Task.IsCompleted)
        {
            // Whoever holds the connection reads the Ok before its first answer; when nobody does, this reads it.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var turn = _gate.WaitAsync(stop.Token);
            if (await Task.WhenAny(_authenticationSettled.Task, turn) == turn)
            {
                await turn;
                try
                {
                    if (_pendingOk is not null)
                    {
                        await ReadPendingOkAsync(cancellationToken);
                    }
                }
                finally
                {
                    _gate.Release();
                }
            }
            else
            {
                await stop.CancelAsync();
                try
                {
                    await turn;
                    _gate.Release();
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The Ok was read meanwhile: the connection's turn is not needed.
                }
            }
        }

        if (_authenticationFailure is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>
    /// Refuses an operation that writes when the token is read-only, before anything is sent; a batch would otherwise
    /// fail item by item. Waits for the challenge's Ok when it is not read yet (<see cref="WhenAuthenticatedAsync"/>).
    /// The server enforces the same rule.
    /// </summary>
    /// <exception cref="FileXferException">With <see cref="ErrorCode.AccessDenied"/>, or the authentication's failure.</exception>
    public async Task RequireWriteAccessAsync(string operation, CancellationToken cancellationToken)
    {
        await WhenAuthenticatedAsync(cancellationToken);
        if (!Access.HasFlag(AccessFlags.Write))
        {
            throw new FileXferException(ErrorCode.AccessDenied, $"permission denied: this token is read-only, {operation} is not allowed");
        }
    }

    /// <summary>
    /// The server accepted the proof this Hello carried over the run's ticket: its Welcome holds its own proof over the
    /// same bytes (checked here, so a server that does not know the secret is not trusted) and the access granted.
    /// </summary>
    private void AcceptEarlyAuthentication(Frame welcome, byte[] serverProof, byte[] clientNonce, byte[]? runTicket, RunTicket ticket)
    {
        if (runTicket is null || _options.Credential is not { } credential)
        {
            throw new ProtocolViolationException("the server's Welcome carries a proof, but this Hello authenticated with no ticket");
        }

        var expected = AuthProof.ForRunServer(credential.Secret, clientNonce, runTicket, ticket.RunId, ticket.Number, credential.Name);
        if (!AuthProof.Matches(expected, serverProof))
        {
            throw new FileXferException(ErrorCode.AuthenticationFailed, "the server could not prove it knows the token");
        }

        IsAuthenticated = true;
        Access = (AccessFlags)(welcome.GetUInt64OrNull(FieldTag.Flags) ?? 0) & AccessFlags.Write;
        _authenticationSettled.TrySetResult();
    }

    /// <summary>
    /// The challenge-response: proves the token's secret to the server without sending it. The Ok, with the server's
    /// proof in return, is read by <see cref="ReadPendingOkAsync"/>: a server that does not know the secret is not
    /// trusted with anything it answers.
    /// </summary>
    private async Task SendAuthenticateAsync(byte[] clientNonce, byte[]? serverNonce, RunTicket ticket, CancellationToken cancellationToken)
    {
        var credential = _options.Credential
            ?? throw new FileXferException(ErrorCode.AuthenticationFailed, "the server requires a token (--token-file or FILEXFER_TOKEN)");
        if (serverNonce is not { Length: ProtocolLimits.AuthBytes })
        {
            throw new ProtocolViolationException("the server asks for authentication without a 32-byte nonce");
        }

        var proof = AuthProof.ForClient(credential.Secret, clientNonce, serverNonce, credential.Name);
        await _writer.WriteAsync(Messages.Authenticate(credential.Name, proof), cancellationToken);
        // Sent now, not with the first request: the server checks the proof while that request is on its way.
        await _writer.FlushAsync(cancellationToken);
        Access = AccessFlags.None;
        _pendingOk = new PendingOk(credential, clientNonce, serverNonce, ticket);
        _challenged = true;
    }

    /// <summary>
    /// Reads the challenge's answer, before any other answer of the connection (the caller holds the connection). On an
    /// Error, or an Ok without the right ServerProof, the connection is given up and that failure is every pending
    /// request's: the server acted on none of them. On the right proof the connection is authenticated, with the access
    /// and the run's ticket the Ok carries, and the Hello's declarations of abandoned connections count as made.
    /// </summary>
    private async Task ReadPendingOkAsync(CancellationToken cancellationToken)
    {
        var pending = _pendingOk ?? throw new InvalidOperationException("no Authenticate awaits its answer");
        _pendingOk = null;
        try
        {
            AcceptOk(await _reader.ReadRequiredFrameAsync(cancellationToken), pending);
        }
        catch (Exception ex)
        {
            _broken = true;
            if (ex is FileXferException { Code: ErrorCode.AuthenticationFailed, IsRemote: false })
            {
                // Refused, or a server without the secret: no request of this connection was carried out by the server
                // it was meant for, so there is nothing to declare abandoned.
                _ticket = null;
            }

            _authenticationFailure = ex is FileXferException
                ? ex
                : new ConnectionLostException($"the connection was lost before the server answered the authentication ({ex.Message})", ex);
            _authenticationSettled.TrySetResult();
            throw;
        }

        _authenticationSettled.TrySetResult();
    }

    /// <summary>Checks the answer to Authenticate and takes what it grants.</summary>
    private void AcceptOk(Frame answer, PendingOk pending)
    {
        var credential = pending.Credential;
        if (answer.Type == MessageType.Error)
        {
            var error = Messages.ToException(answer);
            throw error.Code == ErrorCode.AuthenticationFailed
                ? new FileXferException(ErrorCode.AuthenticationFailed, $"authentication failed as '{RemotePath.Escape(credential.Name)}': {error.Message}")
                : error;
        }

        if (answer.Type != MessageType.Ok || answer.RequestId != 0)
        {
            throw new ProtocolViolationException($"expected Ok to Authenticate, got {answer.Type} for request {answer.RequestId}");
        }

        var expected = AuthProof.ForServer(credential.Secret, pending.ClientNonce, pending.ServerNonce, credential.Name);
        if (answer.GetBytesOrNull(FieldTag.ServerProof) is not { } serverProof || !AuthProof.Matches(expected, serverProof))
        {
            throw new FileXferException(ErrorCode.AuthenticationFailed, "the server could not prove it knows the token");
        }

        IsAuthenticated = true;
        Access = (AccessFlags)(answer.GetUInt64OrNull(FieldTag.Flags) ?? 0) & AccessFlags.Write;
        if (answer.Has(FieldTag.TicketLifetime) && Capabilities.HasFlag(Capabilities.EarlyAuthentication))
        {
            // This connection's nonce is now the run's ticket: the run's next connections authenticate in their Hello.
            _options.Run.AuthTicket = (credential.Name, pending.ServerNonce);
        }

        // The server fenced the connections this Hello declared before it answered.
        _options.Run.Declared(pending.Ticket);
    }

    /// <summary>What the challenge's Ok is checked against.</summary>
    private sealed record PendingOk(FileXferCredential Credential, byte[] ClientNonce, byte[] ServerNonce, RunTicket Ticket);
}
