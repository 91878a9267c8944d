using System.Runtime.InteropServices;

namespace FileXfer.Client.Cli;

/// <summary>
/// SIGINT and SIGTERM for the command line. The first cancels the running command, which removes its temp files
/// and ends with <see cref="ExitCode.Interrupted"/> or <see cref="ExitCode.Terminated"/>; a second signal, or a
/// command still running <see cref="GracePeriod"/> later (a read of standard input cannot be cancelled), ends the
/// process at once with the signal's code. Registered with <see cref="PosixSignalRegistration"/>, not
/// Console.CancelKeyPress, which would leave the terminal in keypad mode.
/// </summary>
internal sealed class TerminationSignals : IDisposable
{
    /// <summary>How long a cancelled command may take to clean up before the process ends anyway.</summary>
    public static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _cancel = new();
    private readonly TimeProvider _time;
    private readonly Action<int> _exit;
    private readonly List<PosixSignalRegistration> _registrations = [];
    private ITimer? _deadline;
    private int _received;

    // Who ends the process: 0 not decided, 1 the command's normal return (Finish), 2 a forced exit (grace period or a
    // second signal). Never both: Environment.Exit racing the normal end of Main can hang the process.
    private int _ending;

    /// <param name="time">Measures the grace period.</param>
    /// <param name="exit">Ends the process with an exit code.</param>
    internal TerminationSignals(TimeProvider time, Action<int> exit)
    {
        _time = time;
        _exit = exit;
    }

    /// <summary>Cancelled at the first signal.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>The exit code of the first signal received, or null.</summary>
    public ExitCode? Received => Volatile.Read(ref _received) is var code and not 0 ? (ExitCode)code : null;

    /// <summary>Handles SIGINT and SIGTERM of this process from now until disposed.</summary>
    /// <param name="time">Measures the grace period.</param>
    /// <param name="exit">Ends the process with an exit code (after the grace period or at a second signal).</param>
    public static TerminationSignals Register(TimeProvider time, Action<int> exit)
    {
        var signals = new TerminationSignals(time, exit);
        foreach (var signal in (PosixSignal[])[PosixSignal.SIGINT, PosixSignal.SIGTERM])
        {
            signals._registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                // The process does not end here: the command cleans up first.
                context.Cancel = true;
                signals.OnSignal(context.Signal);
            }));
        }

        return signals;
    }

    /// <summary>The exit code after a command ended with <paramref name="code"/>: a signal's, unless the command succeeded anyway.</summary>
    public int ExitCodeAfter(int code) => Received is { } signal && code != (int)ExitCode.Ok ? (int)signal : code;

    /// <summary>
    /// The command returned and the process ends normally: a forced exit no longer happens. When one has already
    /// begun, this waits for it (the process is ending with the signal's code).
    /// </summary>
    public void Finish()
    {
        if (Interlocked.CompareExchange(ref _ending, 1, 0) != 0)
        {
            Thread.Sleep(Timeout.Infinite);
        }

        _deadline?.Dispose();
    }

    private void ForceExit(int code)
    {
        if (Interlocked.CompareExchange(ref _ending, 2, 0) == 0)
        {
            _exit(code);
        }
    }

    internal void OnSignal(PosixSignal signal)
    {
        var code = signal == PosixSignal.SIGINT ? ExitCode.Interrupted : ExitCode.Terminated;
        if (Interlocked.CompareExchange(ref _received, (int)code, 0) != 0)
        {
            ForceExit((int)code);
            return;
        }

        _deadline = _time.CreateTimer(_ => ForceExit((int)code), null, GracePeriod, Timeout.InfiniteTimeSpan);
        _cancel.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _deadline?.Dispose();
        _cancel.Dispose();
    }
}
