namespace FileXfer.Client.Cli;

/// <summary>The console as the commands see it, so tests can run them in-process with captured output.</summary>
/// <param name="Out">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="IsErrorTerminal">True when standard error is a terminal (the progress bar is drawn only then).</param>
/// <param name="GetEnvironmentVariable">Reads an environment variable.</param>
public sealed record CliConsole(TextWriter Out, TextWriter Error, bool IsErrorTerminal, Func<string, string?> GetEnvironmentVariable)
{
    /// <summary>Opens standard input as bytes (for <c>put - REMOTE</c>).</summary>
    public Func<Stream> OpenStandardInput { get; init; } = Console.OpenStandardInput;

    /// <summary>Opens standard output as bytes (for <c>get REMOTE -</c>).</summary>
    public Func<Stream> OpenStandardOutput { get; init; } = Console.OpenStandardOutput;

    /// <summary>The real console of this process.</summary>
    public static CliConsole System { get; } = new(
        Console.Out,
        Console.Error,
        !Console.IsErrorRedirected,
        Environment.GetEnvironmentVariable);
}
