using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FileXfer.S3.Tests;

/// <summary>
/// HAProxy (Debian's package) in TCP mode in front of FileXfer servers, with the settings of
/// examples/haproxy/filexfer.cfg on 127.0.0.1 ports; runs in the foreground until disposed.
/// </summary>
public sealed class HaproxyProcess : IDisposable
{
    private readonly TempDirectory _directory = new("filexfer-haproxy");
    private readonly string _pidFile;
    private readonly string _config;
    private int _pid;

    private HaproxyProcess(IReadOnlyList<IPEndPoint> servers, string balance)
    {
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var config = _directory.Combine("haproxy.cfg");
        File.WriteAllText(config, string.Join('\n', [
            "global",
            "    maxconn 256",
            "defaults",
            "    mode tcp",
            "    option redispatch",
            "    retries 3",
            "    timeout connect 5s",
            "    timeout client 10m",
            "    timeout server 10m",
            "frontend filexfer",
            $"    bind 127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}",
            "    default_backend filexfer_servers",
            "backend filexfer_servers",
            $"    balance {balance}",
            "    default-server check inter 200ms fall 1 rise 2",
            .. servers.Select((s, i) => $"    server fx{i + 1} {s}"),
            string.Empty]));
        _pidFile = _directory.Combine("haproxy.pid");
        _config = config;
    }

    /// <summary>The haproxy program, or null when it is not installed.</summary>
    public static string? Executable { get; } = new[] { "/usr/sbin/haproxy", "/usr/bin/haproxy" }.FirstOrDefault(File.Exists);

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Starts HAProxy with <paramref name="balance"/> (HAProxy's algorithm: <c>first</c> sends every connection to
    /// the first server that is up). It runs as a daemon: the command returns once the listener is bound, so the
    /// proxy accepts connections when this returns.
    /// </summary>
    public static async Task<HaproxyProcess> StartAsync(IReadOnlyList<IPEndPoint> servers, string balance, CancellationToken cancellationToken)
    {
        var proxy = new HaproxyProcess(servers, balance);
        try
        {
            var start = new ProcessStartInfo(Executable!) { RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in (string[])["-D", "-p", proxy._pidFile, "-f", proxy._config])
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"haproxy exited {process.ExitCode}: {await errors}");
            }

            proxy._pid = int.Parse((await File.ReadAllTextAsync(proxy._pidFile, cancellationToken)).Trim().Split('\n')[0], CultureInfo.InvariantCulture);
            return proxy;
        }
        catch
        {
            proxy.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_pid > 0)
        {
            try
            {
                using var process = Process.GetProcessById(_pid);
                process.Kill();
                process.WaitForExit();
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        _directory.Dispose();
    }
}
