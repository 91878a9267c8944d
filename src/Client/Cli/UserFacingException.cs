namespace FileXfer.Client.Cli;

/// <summary>A failure to report as one line on stderr with a chosen exit code.</summary>
public sealed class UserFacingException : Exception
{
    public UserFacingException()
        : this(ExitCode.Unexpected, "failed")
    {
    }

    public UserFacingException(string message)
        : this(ExitCode.Unexpected, message)
    {
    }

    public UserFacingException(string message, Exception innerException)
        : base(message, innerException)
    {
        ExitCode = ExitCode.Unexpected;
    }

    public UserFacingException(ExitCode exitCode, string message)
        : base(message)
    {
        ExitCode = exitCode;
    }

    /// <summary>The exit code to end with.</summary>
    public ExitCode ExitCode { get; }
}
