using System.Runtime.InteropServices;

namespace FileXfer.Server.Tests.Support;

/// <summary>Sends a signal to a process: <see cref="System.Diagnostics.Process.Kill()"/> only knows SIGKILL.</summary>
internal static partial class PosixSignals
{
    public const int SigHup = 1;

    public const int SigTerm = 15;

    public static void Send(int processId, int signal)
    {
        if (Kill(processId, signal) != 0)
        {
            throw new InvalidOperationException($"kill({processId}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int processId, int signal);
}
