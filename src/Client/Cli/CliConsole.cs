using FileXfer.Platform;

namespace FileXfer.Client.Cli;

/// <summary>The console as the commands see it, so tests can run them in-process with captured output.</summary>
/// <param name="Out">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="IsErrorTerminal">True when standard error is a terminal (the progress bar is drawn only then).</param>
/// <param name="GetEnvironmentVariable">Reads an environment variable.</param>
public sealed record CliConsole(TextWriter Out, TextWriter Error, bool IsErrorTerminal, Func<string, string?> GetEnvironmentVariable)
{
    /// <summary>Opens standard input as bytes (for <c>put - REMOTE</c>).</summary>
    public Func<Stream> OpenStandardInput { get; init; } = () => new StandardStream(StandardStream.Input);

    /// <summary>Opens standard output as bytes (for <c>get REMOTE -</c>).</summary>
    public Func<Stream> OpenStandardOutput { get; init; } = () => new StandardStream(StandardStream.Output, OutputFailure);

    /// <summary>The width in columns of the terminal standard output is on (for the help text); null when it is not on one.</summary>
    public Func<int?> OutputTerminalColumns { get; init; } = () => null;

    /// <summary>The width in columns of the terminal standard error is on, asked at each use (it may be resized); null when unknown.</summary>
    public Func<int?> ErrorTerminalColumns { get; init; } = () => null;

    /// <summary>
    /// The real console of this process, through <see cref="StandardStream"/> rather than System.Console, which would
    /// leave the terminal in keypad mode and hide a broken pipe.
    /// </summary>
    public static CliConsole System { get; } = new(
        StandardStream.Writer(StandardStream.Output, OutputFailure),
        // Nowhere is left to report a failure to write standard error.
        StandardStream.Writer(StandardStream.Error, _ => null),
        !Console.IsErrorRedirected,
        Environment.GetEnvironmentVariable)
    {
        // A terminal that does not know its size (a pseudo-terminal nobody sized) counts as 80 columns.
        OutputTerminalColumns = () => Console.IsOutputRedirected ? null : StandardStream.TerminalColumns(StandardStream.Output) ?? 80,
        ErrorTerminalColumns = () => StandardStream.TerminalColumns(StandardStream.Error),
    };

    /// <summary>
    /// A reader that closed standard output ends the command with <see cref="ExitCode.BrokenPipe"/>. Not as an
    /// IOException: a copy that latches write failures to read a body to its end must not wait for the rest of a
    /// download nobody reads.
    /// </summary>
    private static Exception OutputFailure(IOException failure) => failure.HResult == StandardStream.BrokenPipe
        ? new UserFacingException(ExitCode.BrokenPipe, "standard output was closed before everything was written (broken pipe)")
        : failure;
}
