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

    /// <summary>
    /// Runs the client to its end as user and group <paramref name="id"/>, without supplementary groups, through
    /// util-linux's <c>setpriv</c> (the caller must be root), with <paramref name="home"/> as its HOME; returns what it printed.
    /// </summary>
    public static async Task<CliResult> RunAsUserAsync(int id, string home, string serverAddress, string[] args, CancellationToken cancellationToken)
    {
        var user = id.ToString(CultureInfo.InvariantCulture);
        var start = StartInfo("setpriv", serverAddress);
        start.Environment["HOME"] = home;
        start.Environment.Remove("XDG_CONFIG_HOME");
        start.Environment.Remove("FILEXFER_CONFIG");
        foreach (var argument in (string[])[$"--reuid={user}", $"--regid={user}", "--clear-groups", DotnetHost(), Assembly, "--retries", "0", .. args])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("setpriv did not start");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return new CliResult(process.ExitCode, await stdout, await stderr);
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
