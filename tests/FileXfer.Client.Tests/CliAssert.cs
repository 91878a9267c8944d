namespace FileXfer.Client.Tests;

/// <summary>Assertions on what the command line printed.</summary>
public static class CliAssert
{
    /// <summary>The run failed with <paramref name="exitCode"/> and exactly one <c>filexfer: </c> line on stderr, no stack trace.</summary>
    public static string OneErrorLine(CliResult result, int exitCode)
    {
        Assert.True(result.ExitCode == exitCode, $"expected exit {exitCode}\n{result}");
        var lines = result.StderrLines;
        Assert.True(lines.Length == 1, $"expected one line on stderr\n{result}");
        Assert.StartsWith("filexfer: ", lines[0], StringComparison.Ordinal);
        NoStackTrace(result);
        return lines[0];
    }

    /// <summary>A usage error: exit 2, every stderr line an error or the help hint, no stack trace.</summary>
    public static void UsageError(CliResult result)
    {
        Assert.True(result.ExitCode == 2, $"expected exit 2\n{result}");
        var lines = result.StderrLines;
        Assert.NotEmpty(lines);
        Assert.StartsWith("filexfer: ", lines[0], StringComparison.Ordinal);
        Assert.All(lines, line => Assert.True(
            line.StartsWith("filexfer: ", StringComparison.Ordinal) || line == "Try 'filexfer --help' for more information.",
            $"unexpected stderr line '{line}'\n{result}"));
        Assert.Empty(result.Stdout);
        NoStackTrace(result);
    }

    /// <summary>No line of stderr looks like a frame of a .NET stack trace.</summary>
    public static void NoStackTrace(CliResult result)
    {
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception:", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>The run succeeded with nothing on stderr.</summary>
    public static void Success(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(result.Stderr.Length == 0, result.ToString());
    }
}
