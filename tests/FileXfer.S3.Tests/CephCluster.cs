using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using Amazon.S3.Model;
using FileXfer.Server.Storage.S3;

namespace FileXfer.S3.Tests;

/// <summary>
/// A one-node Ceph cluster with radosgw on 127.0.0.1 (tests/ceph/ceph-up.sh), started once for the test run, with
/// one bucket; each test takes a prefix of its own in it (<see cref="NewLocation"/>). Where the cluster cannot start
/// (Ceph's packages missing, not root, not Linux) the tests that need it are skipped with the reason, except in CI
/// (<c>CI=true</c>), where that fails them: CI installs the packages (.ci/run) and must run these tests.
/// </summary>
public sealed class CephCluster : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(150);
    private TempDirectory? _directory;
    private string? _scripts;
    private int _prefixes;

    /// <summary>Why the cluster is not available, or null when it runs.</summary>
    public string? Unavailable { get; private set; }

    public Uri Endpoint { get; private set; } = null!;

    public string AccessKey { get; private set; } = null!;

    public string SecretKey { get; private set; } = null!;

    public string Bucket { get; } = "filexfer-tests";

    /// <summary>The client every test shares (thread-safe, one connection pool).</summary>
    public IAmazonS3 Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Unavailable = await StartAsync();
        if (Unavailable is not null && string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"CI must run the object-store tests, but the Ceph cluster did not start: {Unavailable}");
        }
    }

    /// <summary>Skips the calling test, with the reason, when the cluster is not running.</summary>
    public void Require()
    {
        if (Unavailable is not null)
        {
            Assert.Skip($"no Ceph cluster: {Unavailable}");
        }
    }

    /// <summary>A fresh prefix of the test bucket, for one test.</summary>
    public BucketLocation NewLocation() => new(Bucket, $"t{Interlocked.Increment(ref _prefixes)}-{Guid.NewGuid():N}/");

    /// <summary>A client of its own, as a second server would have.</summary>
    public IAmazonS3 CreateClient() => new S3Connection(Endpoint, "us-east-1", AccessKey, SecretKey).CreateClient();

    /// <summary>Every key under <paramref name="location"/>'s prefix.</summary>
    public async Task<List<S3Object>> ListAllAsync(BucketLocation location, CancellationToken cancellationToken)
    {
        var all = new List<S3Object>();
        string? token = null;
        do
        {
            var page = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = location.Prefix, ContinuationToken = token }, cancellationToken);
            all.AddRange(page.S3Objects ?? []);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return all;
    }

    /// <summary>The multipart uploads not completed nor aborted under <paramref name="location"/>'s prefix.</summary>
    public async Task<List<MultipartUpload>> ListMultipartUploadsAsync(BucketLocation location, CancellationToken cancellationToken)
    {
        var page = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = location.Prefix }, cancellationToken);
        return page.MultipartUploads ?? [];
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (_directory is not null && _scripts is not null)
        {
            await RunAsync(Path.Combine(_scripts, "ceph-down.sh"), [Path.Combine(_directory.Path, "cluster")], CancellationToken.None);
            _directory.Dispose();
        }
    }

    private async Task<string?> StartAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "Ceph runs on Linux only";
        }

        _scripts = FindScripts();
        if (_scripts is null)
        {
            return "tests/ceph/ceph-up.sh not found above " + AppContext.BaseDirectory;
        }

        _directory = new TempDirectory("filexfer-ceph");
        int port = FreePort();
        using var timeout = new CancellationTokenSource(StartTimeout, TimeProvider.System);
        var (exitCode, stdout, stderr) = await RunAsync(Path.Combine(_scripts, "ceph-up.sh"), [Path.Combine(_directory.Path, "cluster"), port.ToString(System.Globalization.CultureInfo.InvariantCulture)], timeout.Token);
        if (exitCode != 0)
        {
            var reason = exitCode == 3 ? "Ceph's packages are not installed (tests/ceph/ceph-install.sh, as root)" : $"ceph-up.sh exited {exitCode}";
            return $"{reason}: {stderr.Trim()}";
        }

        var values = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        Endpoint = new Uri(values["endpoint"]);
        AccessKey = values["access_key"];
        SecretKey = values["secret_key"];
        Client = CreateClient();
        await Client.PutBucketAsync(new PutBucketRequest { BucketName = Bucket }, timeout.Token);
        return null;
    }

    private static string? FindScripts()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var scripts = Path.Combine(directory.FullName, "tests", "ceph");
            if (File.Exists(Path.Combine(scripts, "ceph-up.sh")))
            {
                return scripts;
            }
        }

        return null;
    }

    private static int FreePort()
    {
        // The monitor takes the next port: find two free in a row.
        for (int attempt = 0; ; attempt++)
        {
            using var first = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            first.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)first.LocalEndPoint!).Port;
            using var second = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                second.Bind(new IPEndPoint(IPAddress.Loopback, port + 1));
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
                // Taken: try another pair.
            }
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string script, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(File.Exists("/bin/bash") ? "/bin/bash" : "bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, string.Empty, $"cannot run bash: {ex.Message}");
        }

        using var owned = process;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, string.Empty, "timed out");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
