using System.Diagnostics;

namespace FileXfer.Client.Tests;

/// <summary>
/// The bash completion script (packaging/completions/filexfer.bash) run by a real bash against the built client, as a
/// shell would on TAB: commands and options (file names, where the client suggests nothing, are bash's own).
/// </summary>
public sealed class CompletionTests
{
    public static TheoryData<string, string, string[]> Cases => new()
    {
        { "a command", "filexfer pu", ["put"] },
        { "an option of put", "filexfer put --bw", ["--bwlimit"] },
        { "a global option", "filexfer --ret", ["--retries"] },
    };

    [Theory(Timeout = 60000)]
    [MemberData(nameof(Cases))]
    public async Task Tab_completes_from_the_program_itself(string what, string line, string[] expected)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && File.Exists("/bin/bash"), "bash on Linux only");
        var token = TestContext.Current.CancellationToken;
        using var bin = new TempDirectory();
        var wrapper = bin.Combine("filexfer");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec '{ClientProcess.DotnetHost()}' '{ClientProcess.Assembly}' \"$@\"\n", token);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var words = line.Split(' ');
        var script = $$"""
            source '{{Script()}}'
            COMP_LINE='{{line}}'; COMP_POINT={{line.Length}}; COMP_WORDS=({{string.Join(' ', words.Select(w => $"'{w}'"))}}); COMP_CWORD={{words.Length - 1}}
            _filexfer_complete
            printf '%s\n' "${COMPREPLY[@]}"
            """;
        var start = new ProcessStartInfo("/bin/bash", ["--noprofile", "--norc", "-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["PATH"] = bin.Path + ":" + Environment.GetEnvironmentVariable("PATH");
        using var bash = Process.Start(start)!;
        var output = await bash.StandardOutput.ReadToEndAsync(token);
        await bash.WaitForExitAsync(token);

        Assert.Equal(0, bash.ExitCode);
        Assert.Equal(expected, output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(string.IsNullOrEmpty(what));
    }

    private static string Script()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "packaging", "completions", "filexfer.bash");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("packaging/completions/filexfer.bash not found above the test assembly");
    }
}
