namespace FileXfer.Protocol;

/// <summary>
/// A failure that has an <see cref="Protocol.ErrorCode"/>: raised where it happens, sent across the wire
/// as an error frame, and raised again on the other side with the same code.
/// </summary>
public class FileXferException : Exception
{
    public FileXferException()
        : this(ErrorCode.Internal, "unexpected error")
    {
    }

    public FileXferException(string message)
        : this(ErrorCode.Internal, message)
    {
    }

    public FileXferException(string message, Exception innerException)
        : this(ErrorCode.Internal, message, innerException)
    {
    }

    public FileXferException(ErrorCode code, string message)
        : base(message)
    {
        Code = code;
    }

    public FileXferException(ErrorCode code, string message, Exception? innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The stable code of this failure.</summary>
    public ErrorCode Code { get; }

    /// <summary>True when the error came from the other side in an error frame.</summary>
    public bool IsRemote { get; init; }
}
