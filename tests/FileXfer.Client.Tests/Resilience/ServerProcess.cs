using System.Collections.Concurrent;
using System.Diagnostics;

namespace FileXfer.Client.Tests.Resilience;

/// <summary>The real <c>filexfer-server</c> executable over a given root, started as its own process.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log;

    private ServerProcess(Process process, string address, ConcurrentQueue<string> log)
    {
        _process = process;
        Address = address;
        _log = log;
    }

    /// <summary>The lines of its log (stderr) received so far; all of them once it has exited.</summary>
    public IReadOnlyList<string> LogLines => [.. _log];

    /// <summary>The address from its first line, <c>listening on HOST:PORT</c>.</summary>
    public string Address { get; }

    public static Task<ServerProcess> StartAsync(string root, CancellationToken cancellationToken, params string[] extraArguments) =>
        StartAsync([], root, extraArguments, cancellationToken);

    /// <summary>
    /// The server run as user and group <paramref name="id"/>, without supplementary groups, through util-linux's
    /// <c>setpriv</c> (the caller must be root): it then has only that user's rights on the files of its root.
    /// </summary>
    public static Task<ServerProcess> StartAsUserAsync(int id, string root, CancellationToken cancellationToken, params string[] extraArguments)
    {
        var user = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return StartAsync(["setpriv", $"--reuid={user}", $"--regid={user}", "--clear-groups"], root, extraArguments, cancellationToken);
    }

    private static async Task<ServerProcess> StartAsync(string[] wrapper, string root, string[] extraArguments, CancellationToken cancellationToken)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "filexfer-server.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project should copy the server next to itself");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        string[] command = [.. wrapper, dotnet, dll, "--root", root, "--listen", "127.0.0.1:0", .. extraArguments];
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command[1..])
        {
            start.ArgumentList.Add(argument);
        }

        var log = new ConcurrentQueue<string>();
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{command[0]} did not start");
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is { } text)
            {
                log.Enqueue(text);
            }
        };
        process.BeginErrorReadLine();
        var first = await process.StandardOutput.ReadLineAsync(cancellationToken)
            ?? throw new InvalidOperationException($"the server printed nothing: {string.Join('\n', log)}");
        Assert.StartsWith("listening on ", first, StringComparison.Ordinal);
        return new ServerProcess(process, first["listening on ".Length..], log);
    }

    /// <summary>SIGTERM, then waits for the exit; returns the exit code.</summary>
    public async Task<int> TerminateAsync(CancellationToken cancellationToken)
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(cancellationToken);
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no drain, no cleanup, as in a crash.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }
}
