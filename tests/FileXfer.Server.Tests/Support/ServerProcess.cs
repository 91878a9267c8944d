using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace FileXfer.Server.Tests.Support;

/// <summary>
/// The built <c>filexfer-server</c> run as its own process (<c>dotnet filexfer-server.dll</c>, copied next to the
/// test assembly by the project reference), with its output captured line by line.
/// </summary>
public sealed partial class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly Lock _lock = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Signal)> _waiters = [];

    private ServerProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The server assembly next to the tests.</summary>
    public static string ServerAssembly => Path.Combine(AppContext.BaseDirectory, "filexfer-server.dll");

    public int Id => _process.Id;

    public IReadOnlyList<string> StandardError => [.. _stderr];

    public IReadOnlyList<string> StandardOutput => [.. _stdout];

    public static ServerProcess Start(params string[] arguments) => StartWithEnvironment(new Dictionary<string, string?>(), arguments);

    /// <summary>
    /// Starts the server with these environment variables set (a null value removes one). Whatever systemd gave the test
    /// run itself ($NOTIFY_SOCKET, $JOURNAL_STREAM) is not passed on unless given here.
    /// </summary>
    public static ServerProcess StartWithEnvironment(IReadOnlyDictionary<string, string?> environment, params string[] arguments) =>
        Start([], environment, arguments);

    /// <summary>
    /// The server run as user and group <paramref name="id"/>, without supplementary groups, through util-linux's
    /// <c>setpriv</c> (the caller must be root; see <see cref="SkipUnlessRunnableAsAnotherUser"/>): it then has only that
    /// user's rights on the files of its root.
    /// </summary>
    public static ServerProcess StartAsUser(int id, params string[] arguments)
    {
        var user = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Start(["setpriv", $"--reuid={user}", $"--regid={user}", "--clear-groups"], new Dictionary<string, string?>(), arguments);
    }

    /// <summary>Skips the test, saying why, where the server cannot be run as another user: not on Unix, not root, or without setpriv.</summary>
    public static void SkipUnlessRunnableAsAnotherUser()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Unix owners and setpriv are needed");
        Assert.SkipUnless(Environment.UserName == "root", "only root can run the server as another user and make files it does not own");
        Assert.SkipUnless(File.Exists("/usr/bin/setpriv"), "setpriv (util-linux) is needed to run the server as another user");
    }

    private static ServerProcess Start(string[] wrapper, IReadOnlyDictionary<string, string?> environment, string[] arguments)
    {
        Assert.True(File.Exists(ServerAssembly), $"{ServerAssembly} is missing: the test project references the server project to copy it");
        var startInfo = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (wrapper.Length > 0)
        {
            foreach (var argument in wrapper[1..])
            {
                startInfo.ArgumentList.Add(argument);
            }

            startInfo.ArgumentList.Add("dotnet");
        }

        startInfo.ArgumentList.Add(ServerAssembly);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment.Remove("NOTIFY_SOCKET");
        startInfo.Environment.Remove("JOURNAL_STREAM");
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = startInfo };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.OnLine(server._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(server._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Waits for the <c>listening on HOST:PORT</c> line and returns the endpoint it names.</summary>
    public async Task<IPEndPoint> WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        var line = await WaitForLineAsync(l => l.StartsWith("listening on ", StringComparison.Ordinal), TimeSpan.FromSeconds(20), cancellationToken);
        var match = ListeningLine().Match(line);
        Assert.True(match.Success, $"unexpected first line: {line}");
        return IPEndPoint.Parse(match.Groups["endpoint"].Value);
    }

    /// <summary>Completes with the first output line, on stdout or stderr, that matches.</summary>
    public Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var signal = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            var seen = _stdout.Concat(_stderr).FirstOrDefault(match);
            if (seen is not null)
            {
                return Task.FromResult(seen);
            }

            _waiters.Add((match, signal));
        }

        return signal.Task.WaitAsync(timeout, cancellationToken);
    }

    public void SendSigTerm() => PosixSignals.Send(_process.Id, PosixSignals.SigTerm);

    public void SendSigHup() => PosixSignals.Send(_process.Id, PosixSignals.SigHup);

    /// <summary>Waits for the process to exit and for its output to be read to the end; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"^listening on (?<endpoint>127\.0\.0\.1:[1-9][0-9]*)$")]
    private static partial Regex ListeningLine();

    private void OnLine(ConcurrentQueue<string> lines, string? line)
    {
        if (line is null)
        {
            return;
        }

        List<TaskCompletionSource<string>> matched = [];
        lock (_lock)
        {
            lines.Enqueue(line);
            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(line))
                {
                    matched.Add(_waiters[i].Signal);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var signal in matched)
        {
            signal.TrySetResult(line);
        }
    }
}
