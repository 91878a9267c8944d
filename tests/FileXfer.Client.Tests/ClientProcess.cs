using System.Diagnostics;
using System.Globalization;

namespace FileXfer.Client.Tests;

/// <summary>
/// The built <c>filexfer</c> run as its own process (<c>dotnet filexfer.dll</c>, copied next to the test assembly by the
/// project reference): for what only a real process has, such as signals, pipes and a terminal.
/// </summary>
public static class ClientProcess
{
    /// <summary>The client assembly next to the tests.</summary>
    public static string Assembly => Path.Combine(AppContext.BaseDirectory, "filexfer.dll");

    /// <summary>
    /// Starts the client against <paramref name="serverAddress"/> (through <c>FILEXFER_SERVER</c>) with its three
    /// standard streams redirected to the test.
    /// </summary>
    public static Process Start(string serverAddress, params string[] args)
    {
        var start = StartInfo(DotnetHost(), serverAddress);
        start.ArgumentList.Add(Assembly);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
    }

    /// <summary>How to start a program as <see cref="Start"/> starts the client, its output to the test.</summary>
    public static ProcessStartInfo StartInfo(string program, string serverAddress)
    {
        Assert.True(File.Exists(Assembly), $"{Assembly} is missing: the test project should copy the client next to itself");
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment["FILEXFER_SERVER"] = serverAddress;
        start.Environment.Remove("FILEXFER_DEBUG");
        return start;
    }

    /// <summary>Sends <paramref name="signal"/> (<c>INT</c>, <c>TERM</c>) to the process, as kill(1) does.</summary>
    public static async Task SignalAsync(Process process, string signal, CancellationToken cancellationToken)
    {
        using var kill = Process.Start("kill", ["-s", signal, process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(cancellationToken);
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>The dotnet host running these tests, or the one on the PATH.</summary>
    public static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        if (Environment.ProcessPath is { } current && Path.GetFileNameWithoutExtension(current) == "dotnet")
        {
            return current;
        }

        return "dotnet";
    }
}
