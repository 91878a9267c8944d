namespace FileXfer.Client;

/// <summary>The client could not connect to the server, or the server did not complete the handshake in time.</summary>
public sealed class ConnectionFailedException : IOException
{
    public ConnectionFailedException()
        : base("cannot connect")
    {
    }

    public ConnectionFailedException(string message)
        : base(message)
    {
    }

    public ConnectionFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
