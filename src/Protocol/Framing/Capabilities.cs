namespace FileXfer.Protocol.Framing;

/// <summary>
/// Capability bits exchanged in <see cref="MessageType.Hello"/> and <see cref="MessageType.Welcome"/>.
/// A feature is used only when both sides set its bit. Bits not listed are reserved and must be zero.
/// </summary>
[Flags]
public enum Capabilities : ulong
{
    /// <summary>No optional feature.</summary>
    None = 0,

    /// <summary>Bodies of unknown length sent as chunks, which the sender can abort (<see cref="PutFlags.Chunked"/>).</summary>
    ChunkedBody = 1 << 0,

    /// <summary>Puts and gets that resume from a prefix both sides proved by its hash.</summary>
    Resume = 1 << 1,

    /// <summary>
    /// Token authentication by challenge and response (<see cref="MessageType.Authenticate"/>). Set by a client that
    /// can authenticate; set by a server that requires it, whatever the client announced.
    /// </summary>
    Authentication = 1 << 2,

    /// <summary>
    /// One file split into ranges carried over several connections at once: ranged puts (<see cref="PutFlags.Range"/>)
    /// assembled by <see cref="MessageType.Assemble"/>, and ranged gets (<see cref="FieldTag.RangeOffset"/>).
    /// </summary>
    ParallelStreams = 1 << 3,

    /// <summary>Puts whose body follows at once, without waiting for Ready (<see cref="PutFlags.NoWait"/>).</summary>
    Pipelining = 1 << 4,

    /// <summary>Recursive listings (<see cref="ListFlags.Recursive"/>) and <see cref="MessageType.MakeDirectory"/>.</summary>
    Trees = 1 << 5,

    /// <summary>
    /// Listings report the entries they cannot carry (a name the protocol's rules refuse, such as one holding a
    /// newline) with <see cref="MessageType.Omitted"/> frames instead of leaving them out silently.
    /// </summary>
    ListOmissions = 1 << 6,

    /// <summary>
    /// Bodies compressed on the wire as blocks (<see cref="BodyEncoding.ZstdBlocks"/>), asked for with the
    /// <see cref="FieldTag.BodyEncoding"/> field of Put and Get. Hashes, sizes and offsets stay those of the original bytes.
    /// </summary>
    Compression = 1 << 7,

    /// <summary>
    /// Run tickets: after a connection of a run authenticated by challenge and response, the server keeps its nonce as
    /// the run's ticket (<see cref="FieldTag.TicketLifetime"/> in the Ok to Authenticate), and the run's later
    /// connections prove the token in their Hello over that ticket, their own nonce and their connection number, each
    /// number accepted once: one round trip less per connection (docs/PROTOCOL.md, "Early authentication").
    /// </summary>
    EarlyAuthentication = 1 << 8,

    /// <summary>
    /// A ranged Put (<see cref="PutFlags.Range"/>) may also carry <see cref="PutFlags.NoWait"/>: no Ready, its range's
    /// bytes follow the Put at once from the range's first byte, so the next range of a connection costs no round trip.
    /// Announced only with <see cref="ParallelStreams"/>.
    /// </summary>
    EagerRanges = 1 << 9,

    /// <summary>
    /// The client may send its first requests right behind <see cref="MessageType.Authenticate"/>, without waiting for
    /// its Ok: the server reads them only after it wrote the Ok, and never acts on them when authentication fails (it
    /// then answers the Error, stops sending and drains what follows until the client closes, so the Error is not
    /// lost to a reset). One round trip less on every connection that authenticates by the challenge
    /// (docs/PROTOCOL.md, "Requests behind Authenticate").
    /// </summary>
    PipelinedAuthentication = 1 << 10,

    /// <summary>
    /// A Put, an Assemble or a MakeDirectory may carry <see cref="FieldTag.ParentMTime"/>: after the entry is made, the
    /// server sets its parent directory's modification time to that value (durable with the entry's name), so a tree
    /// put needs no last round trip to set directory times. Announced only by a store whose directories have times
    /// that entries change (the local store; not the S3 store). When the server could not set that time, the request's
    /// Ok carries <see cref="FieldTag.ParentTimeNotSet"/>.
    /// </summary>
    DirectoryTimes = 1 << 11,

    /// <summary>
    /// While the server does long work before the answer to a request (a <see cref="MessageType.Hash"/> reading a large
    /// file), it sends <see cref="MessageType.Working"/> frames for that request at an interval well under its idle
    /// timeout, so a client reading under an idle timeout of its own sees progress, not a stalled connection. Sent only
    /// to a client that announced this bit; such a client accepts any number of them before the answer it waits for.
    /// </summary>
    WorkingBeats = 1 << 12,
}
