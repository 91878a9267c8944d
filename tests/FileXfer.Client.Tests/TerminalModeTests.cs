using System.Diagnostics;
using System.Security.Cryptography;

namespace FileXfer.Client.Tests;

/// <summary>
/// The real <c>filexfer</c> and <c>filexfer-server</c> on a pseudo-terminal (through script(1)): what they write there
/// must not leave the terminal changed. System.Console on Linux switches the terminal to keypad-transmit mode (<c>ESC [ ? 1 h ESC =</c>) at its
/// first use and never switches it back, which breaks the cursor keys of some shells after every run.
/// </summary>
public class TerminalModeTests
{
    private const string Term = "xterm";

    [Fact(Timeout = 120000)]
    public async Task Client_commands_run_on_a_terminal_leave_it_as_they_found_it()
    {
        var token = TestContext.Current.CancellationToken;
        await using var server = new TestServer();
        await File.WriteAllBytesAsync(server.PathOf("data.bin"), RandomNumberGenerator.GetBytes(300_000), token);
        using var local = new TempDirectory();
        var client = $"{Quote(ClientProcess.DotnetHost())} {Quote(ClientProcess.Assembly)}";

        // A listing on stdout, a get with its progress bar on stderr, an error line, and the help text.
        var terminal = await RunOnTerminalAsync(
            server.Address,
            [$"{client} ls", $"{client} get data.bin {Quote(local.Combine("copy.bin"))}", $"{client} stat missing", $"{client} --help", $"{client} --help > /dev/null"],
            token);

        Assert.Contains("data.bin\r\n", terminal, StringComparison.Ordinal);
        Assert.Contains("100%", terminal, StringComparison.Ordinal);
        Assert.Contains("saved ", terminal, StringComparison.Ordinal);
        Assert.Contains("filexfer: server: 'missing' not found", terminal, StringComparison.Ordinal);
        Assert.Contains("Usage:", terminal, StringComparison.Ordinal);
        AssertLeftAsFound(terminal);
    }

    [Fact(Timeout = 120000)]
    public async Task The_server_run_on_a_terminal_leaves_it_as_it_found_it()
    {
        var token = TestContext.Current.CancellationToken;
        using var sandbox = new TempDirectory();
        var root = Directory.CreateDirectory(sandbox.Combine("root")).FullName;
        var ready = Quote(sandbox.Combine("ready"));
        var pid = Quote(sandbox.Combine("pid"));
        var server = $"{Quote(ClientProcess.DotnetHost())} {Quote(Path.Combine(AppContext.BaseDirectory, "filexfer-server.dll"))}";

        // In the foreground, as in a terminal (a script gives a background job /dev/null for its input), its log on
        // the terminal, until its first line says it listens and a helper sends it SIGTERM. Then its help and a usage error.
        var terminal = await RunOnTerminalAsync(
            serverAddress: null,
            [
                $"mkfifo {ready}",
                $"(read -r line < {ready}; echo \"$line\"; kill -TERM \"$(cat {pid})\") &",
                $"sh -c 'echo $$ > \"$0\"; out=\"$1\"; shift; exec \"$@\" > \"$out\"' {pid} {ready} {server} --root {Quote(root)} --listen 127.0.0.1:0",
                "wait",
                $"{server} --help",
                $"{server} --root {Quote(sandbox.Combine("missing"))} || true",
            ],
            token);

        Assert.Contains("listening on 127.0.0.1:", terminal, StringComparison.Ordinal);
        Assert.Contains("Stopping: no new connections", terminal, StringComparison.Ordinal);
        Assert.Contains("Usage:", terminal, StringComparison.Ordinal);
        Assert.Contains("filexfer-server: cannot use root", terminal, StringComparison.Ordinal);
        AssertLeftAsFound(terminal);
    }

    /// <summary>
    /// Runs the shell commands on a pseudo-terminal (script(1)) with <c>TERM</c> set, and returns what reached the
    /// terminal. Skips the test where there is no script(1), or no terminfo entry that could show the defect.
    /// </summary>
    private static async Task<string> RunOnTerminalAsync(string? serverAddress, string[] commands, CancellationToken cancellationToken)
    {
        var script = FindOnPath("script") ?? SkipWith("script(1) from util-linux is not installed: no pseudo-terminal to run the programs on");
        if (await KeypadTransmitAsync(cancellationToken) is not { Length: > 0 })
        {
            Assert.Skip($"no terminfo entry for {Term} with keypad_xmit here: a program that changed the terminal could not be seen");
        }

        var start = ClientProcess.StartInfo(script, serverAddress ?? "127.0.0.1:1");
        foreach (var argument in (string[])["--quiet", "--flush", "--return", "--command", string.Join("\n", commands), "/dev/null"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["TERM"] = Term;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var terminal = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        Assert.True(process.ExitCode == 0, $"script failed ({process.ExitCode}): {await stderr}\n{Visible(terminal)}");
        return terminal;
    }

    private static void AssertLeftAsFound(string terminal)
    {
        Assert.False(LeftOn(terminal, "\e[?1h", "\e[?1l"), $"the terminal is left in application cursor-key mode:\n{Visible(terminal)}");
        Assert.False(LeftOn(terminal, "\e=", "\e>"), $"the terminal is left in application keypad mode:\n{Visible(terminal)}");
    }

    /// <summary>True when <paramref name="set"/> occurs with no <paramref name="reset"/> after its last occurrence.</summary>
    private static bool LeftOn(string terminal, string set, string reset) =>
        terminal.LastIndexOf(set, StringComparison.Ordinal) is var on and >= 0 && terminal.LastIndexOf(reset, StringComparison.Ordinal) < on;

    /// <summary>What tput says keypad_xmit is for <see cref="Term"/>: empty when the terminfo entry is missing here.</summary>
    private static async Task<string> KeypadTransmitAsync(CancellationToken cancellationToken)
    {
        if (FindOnPath("tput") is not { } tput)
        {
            return string.Empty;
        }

        var start = new ProcessStartInfo(tput) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-T");
        start.ArgumentList.Add(Term);
        start.ArgumentList.Add("smkx");
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode == 0 ? output : string.Empty;
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);

    private static string SkipWith(string reason)
    {
        Assert.Skip(reason);
        return reason;
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string Visible(string text) => text.Replace("\e", "\\e", StringComparison.Ordinal);
}
