using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using FileXfer.Protocol.Net;

namespace FileXfer.S3.Tests;

/// <summary>
/// The built <c>filexfer-server</c> as its own process over the object store (<c>--store s3://…</c>), its
/// credentials in the standard <c>AWS_*</c> variables of its environment, its output captured line by line.
/// </summary>
public sealed class S3ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private S3ServerProcess(Process process)
    {
        _process = process;
    }

    public IReadOnlyList<string> StandardError => [.. _stderr];

    public static S3ServerProcess Start(CephCluster cluster, string root, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var assembly = Path.Combine(AppContext.BaseDirectory, "filexfer-server.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(assembly);
        foreach (var argument in (string[])["--root", root, "--listen", "127.0.0.1:0", "--s3-endpoint", cluster.Endpoint.ToString(), .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = cluster.AccessKey;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = cluster.SecretKey;
        var process = new Process { StartInfo = start };
        var server = new S3ServerProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith("listening on ", StringComparison.Ordinal))
            {
                server._listening.TrySetResult(line["listening on ".Length..]);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                server._stderr.Enqueue(line);
            }
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => server._listening.TrySetException(new InvalidOperationException("the server exited before listening:\n" + string.Join('\n', server._stderr)));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Waits for the <c>listening on HOST:PORT</c> line; returns the endpoint.</summary>
    public async Task<IPEndPoint> WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        var address = await _listening.Task.WaitAsync(cancellationToken);
        return HostPort.TryParse(address, out var hostPort, out _) ? new IPEndPoint(IPAddress.Parse(hostPort!.Host), hostPort.Port)
            : throw new InvalidOperationException($"not an address: {address}");
    }

    /// <summary>Waits for the process to exit; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        return _process.ExitCode;
    }

    /// <summary>Kills the server at once (SIGKILL): a crash, nothing drained.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
