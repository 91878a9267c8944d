namespace FileXfer.Server.Storage.Local;

/// <summary>The root or the staging area is not safe to serve: others can write it, or it is not the server's own.</summary>
public sealed class UnsafeDirectoryException : IOException
{
    public UnsafeDirectoryException()
    {
    }

    public UnsafeDirectoryException(string message)
        : base(message)
    {
    }

    public UnsafeDirectoryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
