using System.Runtime.InteropServices;

namespace FileXfer.Client.Cli;

/// <summary>
/// The libc calls behind the command line's standard streams and its terminal width, made here instead of through
/// System.Console. On Linux, Console's first write through its streams (or a Ctrl+C handler) puts the terminal in
/// keypad-transmit mode (<c>ESC [ ? 1 h ESC =</c>) and nothing resets it at exit, so every run of the client left the
/// user's shell with changed keys; and Console's streams report a write to a closed pipe as a success. The values
/// are Linux's (x86-64 and arm64 alike).
/// </summary>
internal static partial class StandardIo
{
    public const int Input = 0;
    public const int Output = 1;
    public const int Error = 2;

    /// <summary>EPIPE: the reading end of the pipe was closed.</summary>
    public const int BrokenPipe = 32;

    private const int Interrupted = 4;
    private const int WouldBlock = 11;
    private const short PollIn = 0x1;
    private const short PollOut = 0x4;
    private const nuint GetWindowSize = 0x5413;

    /// <summary>The columns of the terminal <paramref name="descriptor"/> is on, or null when it is not a terminal.</summary>
    public static int? TerminalColumns(int descriptor) =>
        IoControl(descriptor, GetWindowSize, out var size) == 0 && size.Columns > 0 ? size.Columns : null;

    /// <summary>Reads once with read(2) (which moves the offset it shares with other processes); 0 at the end.</summary>
    public static int Read(int descriptor, Span<byte> buffer)
    {
        while (true)
        {
            nint read = ReadNative(descriptor, buffer, buffer.Length);
            if (read >= 0)
            {
                return (int)read;
            }

            WaitOrThrow(Marshal.GetLastPInvokeError(), descriptor, PollIn, "read standard input");
        }
    }

    /// <summary>Writes all of <paramref name="buffer"/> with write(2); returns 0, or the errno of the failed write.</summary>
    public static int Write(int descriptor, ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            nint written = WriteNative(descriptor, buffer, buffer.Length);
            if (written >= 0)
            {
                buffer = buffer[(int)written..];
                continue;
            }

            int error = Marshal.GetLastPInvokeError();
            if (error is not (Interrupted or WouldBlock))
            {
                return error;
            }

            WaitOrThrow(error, descriptor, PollOut, "write");
        }

        return 0;
    }

    /// <summary>An interrupted call is tried again; a descriptor left non-blocking by another program is waited for.</summary>
    private static void WaitOrThrow(int error, int descriptor, short events, string what)
    {
        if (error == WouldBlock)
        {
            var wait = new PollDescriptor { Descriptor = descriptor, Events = events };
            _ = Poll(ref wait, 1, -1);
        }
        else if (error != Interrupted)
        {
            throw new IOException($"cannot {what}: {Marshal.GetPInvokeErrorMessage(error)}", error);
        }
    }

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadNative(int descriptor, Span<byte> buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteNative(int descriptor, ReadOnlySpan<byte> buffer, nint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(ref PollDescriptor descriptors, nuint count, int milliseconds);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoControl(int descriptor, nuint request, out WindowSize size);

    /// <summary><c>struct winsize</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct WindowSize
    {
        public ushort Rows;
        public ushort Columns;
        public ushort Width;
        public ushort Height;
    }

    /// <summary><c>struct pollfd</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short Returned;
    }
}
