namespace FileXfer.Client;

/// <summary>A local file changed size while it was being sent; what was sent is discarded by the server.</summary>
public sealed class SourceChangedException : IOException
{
    public SourceChangedException()
        : base("the source changed while it was read")
    {
    }

    public SourceChangedException(string message)
        : base(message)
    {
    }

    public SourceChangedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
