namespace FileXfer.Protocol.Framing;

/// <summary>
/// The tag byte of a header field. Each tag has one value kind (see <see cref="FieldKinds"/>).
/// Unknown tags are skipped by receivers, so later versions can add fields.
/// </summary>
public enum FieldTag : byte
{
    /// <summary>A remote path (string).</summary>
    Path = 0x01,

    /// <summary>A body or file size in bytes (unsigned 64-bit).</summary>
    Size = 0x02,

    /// <summary>Modification time, nanoseconds since the Unix epoch, UTC (signed 64-bit).</summary>
    MTime = 0x03,

    /// <summary>The name of a hash algorithm, such as <c>sha256</c> (string).</summary>
    HashAlgorithm = 0x04,

    /// <summary>A hash value (bytes).</summary>
    HashValue = 0x05,

    /// <summary>A byte offset into a file (unsigned 64-bit).</summary>
    Offset = 0x06,

    /// <summary>The kind of an entry, see <see cref="EntryKind"/> (unsigned 64-bit).</summary>
    Kind = 0x07,

    /// <summary>Unix permission bits (unsigned 64-bit).</summary>
    Mode = 0x08,

    /// <summary>An <see cref="ErrorCode"/> (unsigned 64-bit).</summary>
    ErrorCode = 0x09,

    /// <summary>A human-readable message (string).</summary>
    Message = 0x0A,

    /// <summary>A protocol version (unsigned 64-bit).</summary>
    Version = 0x0B,

    /// <summary>A capability bit set, see <see cref="Capabilities"/> (unsigned 64-bit).</summary>
    Capabilities = 0x0C,

    /// <summary>The name and version of the program on the other side (string).</summary>
    Agent = 0x0D,

    /// <summary>A comma-separated list of hash algorithm names (string).</summary>
    HashAlgorithms = 0x0E,

    /// <summary>A count, such as the number of entries in a listing (unsigned 64-bit).</summary>
    Count = 0x0F,

    /// <summary>A file name inside a directory, no separators (string).</summary>
    Name = 0x10,

    /// <summary>The largest file the server accepts (unsigned 64-bit).</summary>
    MaxFileSize = 0x11,

    /// <summary>Request-specific option bits, see <see cref="PutFlags"/> and <see cref="ListFlags"/> (unsigned 64-bit).</summary>
    Flags = 0x12,

    /// <summary>The client's name for a resumable upload: the same source to the same destination (bytes, at most 64).</summary>
    ResumeKey = 0x13,

    /// <summary>32 random bytes the client chose for this connection, sent in Hello (bytes, at most 32).</summary>
    ClientNonce = 0x14,

    /// <summary>32 random bytes the server chose for this connection, sent in Welcome when it requires authentication (bytes, at most 32).</summary>
    ServerNonce = 0x15,

    /// <summary>The name of the token a client authenticates with (string, at most 64 bytes).</summary>
    TokenName = 0x16,

    /// <summary>The client's proof that it knows the token's secret, see <see cref="Security.AuthProof"/> (bytes, at most 32).</summary>
    Proof = 0x17,

    /// <summary>The server's proof that it knows the token's secret, see <see cref="Security.AuthProof"/> (bytes, at most 32).</summary>
    ServerProof = 0x18,

    /// <summary>16 random bytes naming one run of a client (one command), sent in Hello (bytes, exactly 16).</summary>
    RunId = 0x19,

    /// <summary>This connection's number within its run, from 1, sent in Hello with <see cref="RunId"/> (unsigned 64-bit).</summary>
    ConnectionNumber = 0x1A,

    /// <summary>
    /// The numbers of the run's earlier connections that the client gave up on while a request was in flight, as
    /// unsigned 32-bit little-endian integers, sent in Hello (bytes, at most <see cref="ProtocolLimits.MaxAbandonedConnections"/> of them).
    /// </summary>
    Abandoned = 0x1B,

    /// <summary>
    /// The client's name for one file sent as ranges over several connections, the same in each range's Put and in
    /// the Assemble that ends it (bytes, 1 to 32; <see cref="Capabilities.ParallelStreams"/>).
    /// </summary>
    TransferId = 0x1C,

    /// <summary>Where a range starts in its file, 0 … 2^62: in a ranged Put or Get, and the Data that answers it (unsigned 64-bit).</summary>
    RangeOffset = 0x1D,

    /// <summary>How many bytes a range has, 1 … 2^62: in a ranged Put or Get, and the Data that answers it (unsigned 64-bit).</summary>
    RangeLength = 0x1E,

    /// <summary>
    /// How a body is encoded on the wire, a <see cref="Framing.BodyEncoding"/> (unsigned 64-bit): on a Put, the body that
    /// follows; on a Get, the encoding the client asks for; on Data, the one the body that follows has. Absent: plain.
    /// Sent only when both sides announced <see cref="Capabilities.Compression"/>.
    /// </summary>
    BodyEncoding = 0x22,

    /// <summary>
    /// In the Ok to Authenticate of a server with <see cref="Capabilities.EarlyAuthentication"/>: this connection's
    /// ServerNonce is now its run's ticket, usable for this many seconds after its last use (unsigned 64-bit).
    /// </summary>
    TicketLifetime = 0x26,

    /// <summary>
    /// The modification time the client wants the PARENT directory of the entry a Put, an Assemble or a MakeDirectory
    /// adds to end with, in <see cref="MTime"/>'s representation (signed nanoseconds since the Unix epoch): the server
    /// sets it right after the entry is made, so the last entry made in a directory leaves it at that time
    /// (<see cref="Capabilities.DirectoryTimes"/>).
    /// </summary>
    ParentMTime = 0x28,

    /// <summary>
    /// In the Ok to a Put, an Assemble or a MakeDirectory that carried <see cref="ParentMTime"/>: the entry was made, but
    /// the server could not give its parent directory that time (one it does not own, for example), so the directory
    /// keeps the time the entry gave it (unsigned 64-bit, 1; absent when the time was set or none was asked). A client
    /// sets that directory's time some other way, or reports it (<see cref="Capabilities.DirectoryTimes"/>).
    /// </summary>
    ParentTimeNotSet = 0x29,
}
