using System.Runtime.InteropServices;
using System.Text;

namespace FileXfer.Platform;

/// <summary>
/// Standard input, output or error as bytes, read and written with read(2) and write(2), instead of through
/// System.Console. On Linux, Console's first write through its streams (or a Ctrl+C handler, or a question about the
/// window's width) puts the terminal in keypad-transmit mode (<c>ESC [ ? 1 h ESC =</c>) and nothing resets it at exit,
/// so every run left the user's shell with changed keys; and Console's streams report a write to a closed pipe as a
/// success. Like Console's, and unlike a FileStream's positioned writes, these move the file offset that the shell and
/// the other programs writing there share (<c>2&gt;&amp;1</c> into a file). Disposing leaves the descriptor open.
/// The values are Linux's generic ones (<c>asm-generic/errno-base.h</c>, <c>poll.h</c>), which read and write work with on
/// any architecture: a refusal of the file calls (<see cref="LinuxAbi"/>) must still reach standard error.
/// </summary>
/// <param name="descriptor"><see cref="Input"/>, <see cref="Output"/> or <see cref="Error"/>.</param>
/// <param name="onWriteFailure">
/// What a failed write becomes: the exception to throw, or null to drop the bytes; without it the
/// <see cref="IOException"/> (whose <see cref="Exception.HResult"/> is the errno, e.g. <see cref="BrokenPipe"/>) is thrown.
/// </param>
public sealed partial class StandardStream(int descriptor, Func<IOException, Exception?>? onWriteFailure = null) : Stream
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

    /// <inheritdoc />
    public override bool CanRead => descriptor == Input;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => descriptor != Input;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>A UTF-8 text writer on standard output or error, flushed at every write as Console's are, safe to share between threads.</summary>
    public static TextWriter Writer(int descriptor, Func<IOException, Exception?>? onWriteFailure = null) =>
        TextWriter.Synchronized(new StreamWriter(new StandardStream(descriptor, onWriteFailure), new UTF8Encoding(false)) { AutoFlush = true });

    /// <summary>The columns of the terminal <paramref name="descriptor"/> is on, or null when it is not one or does not know.</summary>
    /// <remarks>On an architecture whose request number is not known here (see <see cref="LinuxAbi"/>), null: the width is not asked.</remarks>
    public static int? TerminalColumns(int descriptor) =>
        LinuxAbi.CurrentOrNull is { } abi && IoControl(descriptor, abi.GetWindowSize, out var size) == 0 && size.Columns > 0 ? size.Columns : null;

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            nint read = ReadNative(descriptor, buffer, buffer.Length);
            if (read >= 0)
            {
                return (int)read;
            }

            int error = Marshal.GetLastPInvokeError();
            if (!WaitToRetry(error, PollIn))
            {
                throw new IOException($"cannot read standard input: {Marshal.GetPInvokeErrorMessage(error)}", error);
            }
        }
    }

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
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
            if (!WaitToRetry(error, PollOut))
            {
                var failure = new IOException($"cannot write standard {(descriptor == Output ? "output" : "error")}: {Marshal.GetPInvokeErrorMessage(error)}", error);
                if ((onWriteFailure is null ? failure : onWriteFailure(failure)) is { } thrown)
                {
                    throw thrown;
                }

                return;
            }
        }
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>
    /// True when the call is to be tried again: it was interrupted, or the descriptor was left non-blocking by another
    /// program and is now ready.
    /// </summary>
    private bool WaitToRetry(int error, short events)
    {
        if (error == WouldBlock)
        {
            var wait = new PollDescriptor { Descriptor = descriptor, Events = events };
            _ = Poll(ref wait, 1, -1);
        }

        return error is Interrupted or WouldBlock;
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
