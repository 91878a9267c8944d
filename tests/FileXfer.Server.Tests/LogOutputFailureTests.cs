using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using FileXfer.Client;
using FileXfer.Protocol.Net;

namespace FileXfer.Server.Tests;

/// <summary>
/// The <c>filexfer-server</c> executable with a standard error (where its log goes) that fails: it goes on serving,
/// and stops cleanly on SIGTERM.
/// </summary>
public sealed class LogOutputFailureTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact(Timeout = 60000)]
    public async Task A_server_whose_stderr_is_a_pipe_nobody_reads_any_more_keeps_serving()
    {
        var token = TestContext.Current.CancellationToken;
        var start = Server();
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        // The reader of its stderr went away: every log write meets a closed pipe.
        process.StandardError.Close();

        await ServeAndStopAsync(process, token);
    }

    [Fact(Timeout = 60000)]
    public async Task A_server_whose_stderr_is_a_full_disk_keeps_serving()
    {
        var token = TestContext.Current.CancellationToken;
        if (!File.Exists("/dev/full"))
        {
            Assert.Skip("no /dev/full here to make every write to stderr fail with ENOSPC");
        }

        // sh only redirects stderr, then becomes the server.
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in (string[])["-c", "exec \"$0\" \"$@\" 2>/dev/full", .. Server().ArgumentList.Prepend("dotnet")])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;

        await ServeAndStopAsync(process, token);
    }

    private ProcessStartInfo Server()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in (string[])[ServerProcess.ServerAssembly, "--root", _root.Path, "--listen", "127.0.0.1:0", "--log-level", "debug"])
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>Puts and gets files (each logging lines that cannot be written), then SIGTERM: the server exits 0.</summary>
    private static async Task ServeAndStopAsync(Process process, CancellationToken cancellationToken)
    {
        try
        {
            var first = await process.StandardOutput.ReadLineAsync(cancellationToken);
            Assert.True(first?.StartsWith("listening on ", StringComparison.Ordinal), $"unexpected first line: {first}");
            var server = new HostPort("127.0.0.1", IPEndPoint.Parse(first!["listening on ".Length..]).Port);
            var options = new FileXferClientOptions { ConnectTimeout = TimeSpan.FromSeconds(10), IdleTimeout = TimeSpan.FromSeconds(10) };
            for (int i = 0; i < 20; i++)
            {
                var content = RandomNumberGenerator.GetBytes(1000 + i);
                await using var client = await FileXferClient.ConnectAsync(server, options, cancellationToken);
                using var source = new MemoryStream(content);
                await client.PutAsync(source, content.Length, $"file{i}.bin", modifiedUtc: null, mode: null, progress: null, cancellationToken);
                using var received = new MemoryStream();
                await client.GetAsync($"file{i}.bin", received, progress: null, cancellationToken);
                Assert.Equal(content, received.ToArray());
            }

            PosixSignals.Send(process.Id, PosixSignals.SigTerm);
            using var deadline = Deadline.After(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(deadline.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
