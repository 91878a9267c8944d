using System.Diagnostics;

namespace FileXfer.Client.Tests.Resilience;

/// <summary>The real <c>filexfer-server</c> executable over a given root, started as its own process.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, string address)
    {
        _process = process;
        Address = address;
    }

    /// <summary>The address from its first line, <c>listening on HOST:PORT</c>.</summary>
    public string Address { get; }

    public static async Task<ServerProcess> StartAsync(string root, CancellationToken cancellationToken, params string[] extraArguments)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "filexfer-server.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project should copy the server next to itself");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] arguments = [dll, "--root", root, "--listen", "127.0.0.1:0", .. extraArguments];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        var first = await process.StandardOutput.ReadLineAsync(cancellationToken) ?? throw new InvalidOperationException("the server printed nothing");
        Assert.StartsWith("listening on ", first, StringComparison.Ordinal);
        return new ServerProcess(process, first["listening on ".Length..]);
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
