using System.Net.Sockets;

namespace FileXfer.Client.Cli;

/// <summary>Turns any failure into one line on stderr and a documented exit code; never a stack trace.</summary>
internal static class ErrorReporter
{
    public static (ExitCode Code, string Message) Classify(Exception exception) => exception switch
    {
        UserFacingException user => (user.ExitCode, user.Message),
        ServerCertificateException => (ExitCode.Denied, exception.Message),
        // A message written by the server is escaped: a hostile one must not reach the terminal as escape sequences.
        ProtocolViolationException violation => (ExitCode.Unexpected, $"protocol error: {(violation.IsRemote ? RemotePath.EscapeMessage(violation.Message) : violation.Message)}"),
        // A request the client itself refuses before sending it (a device given as a file, a --delete guard).
        FileXferException { IsRemote: false, Code: ErrorCode.BadRequest } => (ExitCode.Usage, exception.Message),
        FileXferException coded => (FromErrorCode(coded.Code), coded.IsRemote ? $"server: {RemotePath.EscapeMessage(coded.Message)}" : coded.Message),
        ConnectionFailedException or ConnectionLostException or SocketException => (ExitCode.Connection, exception.Message),
        SourceChangedException => (ExitCode.Unexpected, exception.Message),
        LocalWriteException { InnerException: DirectoryNotFoundException or FileNotFoundException } => (ExitCode.NotFound, exception.Message),
        LocalWriteException { InnerException: UnauthorizedAccessException } => (ExitCode.Denied, exception.Message),
        FileNotFoundException { FileName: { } name } => (ExitCode.NotFound, $"'{name}' not found"),
        FileNotFoundException or DirectoryNotFoundException => (ExitCode.NotFound, exception.Message),
        UnauthorizedAccessException => (ExitCode.Denied, exception.Message),
        IOException => (ExitCode.Unexpected, exception.Message),
        // Only the caller cancels (timeouts are TimeoutException): SIGINT or SIGTERM, whose exit code the caller gives.
        OperationCanceledException => (ExitCode.Unexpected, "interrupted"),
        // The platform's file calls on an architecture they do not know: their one-line refusal, as it is.
        PlatformNotSupportedException => (ExitCode.Unexpected, exception.Message),
        _ => (ExitCode.Unexpected, $"unexpected error ({exception.GetType().Name}): {exception.Message}"),
    };

    public static ExitCode FromErrorCode(ErrorCode code) => code switch
    {
        ErrorCode.NotFound => ExitCode.NotFound,
        ErrorCode.AccessDenied or ErrorCode.AuthenticationFailed => ExitCode.Denied,
        ErrorCode.IntegrityMismatch or ErrorCode.SizeMismatch => ExitCode.Integrity,
        ErrorCode.InvalidPath or ErrorCode.UnsupportedHashAlgorithm => ExitCode.Usage,
        ErrorCode.IsADirectory or ErrorCode.NotADirectory or ErrorCode.DirectoryNotEmpty => ExitCode.Usage,
        ErrorCode.Unavailable => ExitCode.Connection,
        _ => ExitCode.Unexpected,
    };

    /// <summary>
    /// True for a failure of one item of a batch after which the connection is still in step, so the batch
    /// can go on with the next item.
    /// </summary>
    public static bool IsPerItem(Exception exception) =>
        exception is FileXferException { IsRemote: true } and not ProtocolViolationException
            || exception is FileXferException { Code: ErrorCode.InvalidPath };

    public static async Task<ExitCode> ReportAsync(CliConsole console, Exception exception)
    {
        var (code, message) = Classify(exception);
        // A message of several lines (a changed server certificate) is marked on each line.
        foreach (var line in message.Split('\n'))
        {
            await console.Error.WriteLineAsync($"filexfer: {line}");
        }

        if (console.GetEnvironmentVariable("FILEXFER_DEBUG") is "1")
        {
            await console.Error.WriteLineAsync(exception.ToString());
        }

        return code;
    }
}
