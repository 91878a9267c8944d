namespace FileXfer.Protocol;

/// <summary>The other side closed the connection, or it broke, before a message or body was complete.</summary>
public sealed class ConnectionLostException : IOException
{
    public ConnectionLostException()
        : base("connection lost")
    {
    }

    public ConnectionLostException(string message)
        : base(message)
    {
    }

    public ConnectionLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
