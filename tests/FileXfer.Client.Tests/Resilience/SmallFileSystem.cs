using System.Diagnostics;

namespace FileXfer.Client.Tests.Resilience;

/// <summary>
/// A tmpfs of a few MiB mounted for one test, so that "no space left on device" is real. Needs root (as this
/// project's machines and CI run); elsewhere the tests that need it are skipped with the reason.
/// </summary>
public sealed class SmallFileSystem : IDisposable
{
    private readonly TempDirectory _mountPoint = new("filexfer-smallfs");

    private SmallFileSystem(int megabytes)
    {
        Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0755", "tmpfs", _mountPoint.Path);
    }

    public string Path => _mountPoint.Path;

    /// <summary>Mounts one, or skips the calling test when this process may not mount.</summary>
    public static SmallFileSystem Mount(int megabytes)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            Assert.Skip("mounting a small tmpfs needs root on Linux");
        }

        try
        {
            return new SmallFileSystem(megabytes);
        }
        catch (InvalidOperationException ex)
        {
            Assert.Skip($"cannot mount a small tmpfs here: {ex.Message}");
            throw;
        }
    }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Run("umount", "-l", Path);
        }
        finally
        {
            _mountPoint.Dispose();
        }
    }

    private static void Run(string command, params string[] arguments)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {command}");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} failed: {error.Trim()}");
        }
    }
}
