using System.Diagnostics;

namespace FileXfer.Client.Tests;

/// <summary>
/// FIFOs and device nodes made for one test inside its own temp directory, through the system's own tools, so that no
/// test ever writes near the machine's real <c>/dev/null</c>. Device nodes need root (as this project's machines and CI
/// run) and a file system that honours them; elsewhere the tests that need them are skipped with the reason.
/// </summary>
public static class SpecialNodes
{
    /// <summary>Makes a FIFO at <paramref name="path"/>, or skips the calling test where there are none.</summary>
    public static async Task MakeFifoAsync(string path, CancellationToken cancellationToken)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "FIFOs as local paths are told apart on Linux");
        var (exit, error) = await RunAsync("mkfifo", [path], cancellationToken);
        Assert.True(exit == 0, $"mkfifo failed: {error}");
    }

    /// <summary>
    /// Makes a character device node with <paramref name="major"/> and <paramref name="minor"/> at <paramref name="path"/>
    /// (1 3 is what <c>/dev/null</c> is, 1 7 <c>/dev/full</c>), or skips the calling test where it cannot be made or used.
    /// </summary>
    public static async Task MakeCharacterDeviceAsync(string path, int major, int minor, CancellationToken cancellationToken)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && Environment.UserName == "root", "making a device node needs root on Linux");
        var (exit, error) = await RunAsync("mknod", ["-m", "666", path, "c", $"{major}", $"{minor}"], cancellationToken);
        Assert.SkipUnless(exit == 0, $"mknod failed here: {error}");
        try
        {
            // A file system mounted nodev has the node but refuses to open it.
            File.OpenHandle(path, FileMode.Open, FileAccess.Write).Dispose();
        }
        catch (UnauthorizedAccessException ex)
        {
            Assert.Skip($"device nodes cannot be opened in {Path.GetDirectoryName(path)} (mounted nodev?): {ex.Message}");
        }
    }

    /// <summary>What <c>stat</c> says <paramref name="path"/> is: its type and, for a device, its major and minor numbers in hex.</summary>
    public static async Task<string> DescribeAsync(string path, CancellationToken cancellationToken)
    {
        var (exit, output) = await RunAsync("stat", ["-c", "%F %t %T", path], cancellationToken, standardOutput: true);
        Assert.True(exit == 0, $"stat failed: {output}");
        return output.Trim();
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string command, string[] arguments, CancellationToken cancellationToken, bool standardOutput = false)
    {
        var info = new ProcessStartInfo(command, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {command}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, standardOutput ? await output : await error);
    }
}
