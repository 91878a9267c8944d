namespace FileXfer.Server.Security;

/// <summary>The tokens file cannot be used: malformed, or open to other users. The message names the file and line.</summary>
public sealed class TokensFileException : Exception
{
    public TokensFileException()
        : this("the tokens file cannot be used")
    {
    }

    public TokensFileException(string message)
        : base(message)
    {
    }

    public TokensFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
