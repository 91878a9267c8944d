namespace FileXfer.Protocol;

/// <summary>
/// Stable numeric error codes carried by <see cref="Framing.MessageType.Error"/> frames.
/// Numbers never change meaning; new codes are only added. docs/PROTOCOL.md lists them.
/// </summary>
public enum ErrorCode
{
    /// <summary>The peer broke the protocol: a malformed frame, a bad length, a message out of order.</summary>
    ProtocolViolation = 1,

    /// <summary>No protocol version is spoken by both sides.</summary>
    UnsupportedVersion = 2,

    /// <summary>A message type this side does not know or does not accept here.</summary>
    UnknownMessage = 3,

    /// <summary>A required field is missing or has a value out of range.</summary>
    BadRequest = 4,

    /// <summary>The hash algorithm named is not supported.</summary>
    UnsupportedHashAlgorithm = 5,

    /// <summary>The path does not exist.</summary>
    NotFound = 10,

    /// <summary>The path breaks the path rules (traversal, control characters, reserved names...).</summary>
    InvalidPath = 11,

    /// <summary>The path names a directory where a file is needed.</summary>
    IsADirectory = 12,

    /// <summary>A component of the path is a file where a directory is needed.</summary>
    NotADirectory = 13,

    /// <summary>A directory to delete is not empty.</summary>
    DirectoryNotEmpty = 14,

    /// <summary>The operation is not permitted: the path leaves the root, or the file system refused.</summary>
    AccessDenied = 20,

    /// <summary>Authentication is required or failed.</summary>
    AuthenticationFailed = 21,

    /// <summary>The received bytes do not match the hash the sender computed.</summary>
    IntegrityMismatch = 30,

    /// <summary>The body was shorter or longer than declared.</summary>
    SizeMismatch = 31,

    /// <summary>The sender aborted the body (its source changed or could not be read); nothing was stored.</summary>
    TransferAborted = 32,

    /// <summary>The file exceeds the server's largest accepted size.</summary>
    TooLarge = 40,

    /// <summary>The storage has no room for the file.</summary>
    InsufficientStorage = 41,

    /// <summary>The server is shutting down or busy; try again later.</summary>
    Unavailable = 50,

    /// <summary>An unexpected failure on the server; its log has the details.</summary>
    Internal = 60,
}
