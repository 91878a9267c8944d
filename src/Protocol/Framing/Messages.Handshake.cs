using FileXfer.Protocol.Hashing;

namespace FileXfer.Protocol.Framing;

/// <summary>The handshake: Hello and Welcome (with a run's ticket or without), Authenticate and the Ok that accepts it.</summary>
public static partial class Messages
{
    /// <summary>The client's opening frame.</summary>
    public static Frame Hello(int version, Capabilities capabilities, string agent) => Hello(version, capabilities, agent, clientNonce: null);

    /// <summary>The client's opening frame, with the nonce it contributes to an authentication (when not null).</summary>
    public static Frame Hello(int version, Capabilities capabilities, string agent, byte[]? clientNonce) =>
        Hello(version, capabilities, agent, clientNonce, ticket: null);

    /// <summary>The client's opening frame, with its nonce and its place in the client's run (each when not null).</summary>
    public static Frame Hello(int version, Capabilities capabilities, string agent, byte[]? clientNonce, RunTicket? ticket)
    {
        var fields = new List<Field>
        {
            Field.Integer(FieldTag.Version, version),
            Field.Unsigned(FieldTag.Capabilities, (ulong)capabilities),
            Field.String(FieldTag.Agent, agent),
            Field.String(FieldTag.HashAlgorithms, string.Join(',', HashAlgorithms.Supported)),
        };
        if (clientNonce is not null)
        {
            fields.Add(Field.Bytes(FieldTag.ClientNonce, clientNonce));
        }

        ticket?.AddTo(fields);
        return new Frame(MessageType.Hello, 0, fields);
    }

    /// <summary>
    /// The opening frame of a later connection of a run that holds a ticket: the Hello with the token's name and the
    /// client's proof over the ticket (see <see cref="Security.AuthProof.ForRunClient"/>), so no Authenticate follows.
    /// </summary>
    public static Frame Hello(int version, Capabilities capabilities, string agent, byte[] clientNonce, RunTicket ticket, string tokenName, byte[] proof)
    {
        var hello = Hello(version, capabilities, agent, clientNonce, ticket);
        return new Frame(MessageType.Hello, 0, [.. hello.Fields, Field.String(FieldTag.TokenName, tokenName), Field.Bytes(FieldTag.Proof, proof)]);
    }

    /// <summary>The server's answer to <see cref="MessageType.Hello"/>.</summary>
    public static Frame Welcome(int version, Capabilities capabilities, string agent, long maxFileSize) =>
        Welcome(version, capabilities, agent, maxFileSize, serverNonce: null);

    /// <summary>The server's answer to <see cref="MessageType.Hello"/>, with its nonce when it requires authentication.</summary>
    public static Frame Welcome(int version, Capabilities capabilities, string agent, long maxFileSize, byte[]? serverNonce)
    {
        var fields = new List<Field>
        {
            Field.Integer(FieldTag.Version, version),
            Field.Unsigned(FieldTag.Capabilities, (ulong)capabilities),
            Field.String(FieldTag.Agent, agent),
            Field.String(FieldTag.HashAlgorithms, string.Join(',', HashAlgorithms.Supported)),
            Field.Integer(FieldTag.MaxFileSize, maxFileSize),
        };
        if (serverNonce is not null)
        {
            fields.Add(Field.Bytes(FieldTag.ServerNonce, serverNonce));
        }

        return new Frame(MessageType.Welcome, 0, fields);
    }

    /// <summary>
    /// The answer to a Hello that authenticated with its run's ticket: Welcome with Authentication set, no nonce, and in
    /// place of the Ok to Authenticate the server's proof and the access granted.
    /// </summary>
    public static Frame Welcome(int version, Capabilities capabilities, string agent, long maxFileSize, byte[] serverProof, AccessFlags access)
    {
        var welcome = Welcome(version, capabilities, agent, maxFileSize, serverNonce: null);
        var fields = new List<Field>(welcome.Fields) { Field.Bytes(FieldTag.ServerProof, serverProof) };
        if (access != AccessFlags.None)
        {
            fields.Add(Field.Unsigned(FieldTag.Flags, (ulong)access));
        }

        return new Frame(MessageType.Welcome, 0, fields);
    }

    /// <summary>The client authenticates as <paramref name="tokenName"/> with its proof (see <see cref="Security.AuthProof"/>).</summary>
    public static Frame Authenticate(string tokenName, byte[] proof) =>
        new(MessageType.Authenticate, 0, Field.String(FieldTag.TokenName, tokenName), Field.Bytes(FieldTag.Proof, proof));

    /// <summary>The server accepted an <see cref="MessageType.Authenticate"/>: its own proof and the access granted.</summary>
    public static Frame AuthenticateOk(byte[] serverProof, AccessFlags access) => AuthenticateOk(serverProof, access, ticketLifetime: null);

    /// <summary>
    /// The server accepted an <see cref="MessageType.Authenticate"/>: its proof, the access granted, and when not null
    /// how long this connection's nonce serves as its run's ticket (<see cref="Capabilities.EarlyAuthentication"/>).
    /// </summary>
    public static Frame AuthenticateOk(byte[] serverProof, AccessFlags access, TimeSpan? ticketLifetime)
    {
        var fields = new List<Field> { Field.Bytes(FieldTag.ServerProof, serverProof) };
        if (access != AccessFlags.None)
        {
            fields.Add(Field.Unsigned(FieldTag.Flags, (ulong)access));
        }

        if (ticketLifetime is { } lifetime)
        {
            fields.Add(Field.Unsigned(FieldTag.TicketLifetime, (ulong)Math.Max(1, (long)lifetime.TotalSeconds)));
        }

        return new Frame(MessageType.Ok, 0, fields);
    }
}
