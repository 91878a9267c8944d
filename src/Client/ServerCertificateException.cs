namespace FileXfer.Client;

/// <summary>
/// The server's TLS certificate is not trusted: it does not match the pinned fingerprint, it differs from the one
/// recorded for the server, or nothing vouches for it. Nothing was sent to the server. Never retried.
/// </summary>
public sealed class ServerCertificateException : IOException
{
    public ServerCertificateException()
        : base("the server's certificate is not trusted")
    {
    }

    public ServerCertificateException(string message)
        : base(message)
    {
    }

    public ServerCertificateException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
