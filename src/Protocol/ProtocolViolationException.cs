namespace FileXfer.Protocol;

/// <summary>The peer sent bytes that break the protocol. The connection cannot continue after this.</summary>
public sealed class ProtocolViolationException : FileXferException
{
    public ProtocolViolationException()
        : base(ErrorCode.ProtocolViolation, "protocol violation")
    {
    }

    public ProtocolViolationException(string message)
        : base(ErrorCode.ProtocolViolation, message)
    {
    }

    public ProtocolViolationException(string message, Exception innerException)
        : base(ErrorCode.ProtocolViolation, message, innerException)
    {
    }
}
