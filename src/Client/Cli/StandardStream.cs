using System.Runtime.InteropServices;

namespace FileXfer.Client.Cli;

/// <summary>
/// Standard input, output or error as bytes, read and written with read(2) and write(2) as System.Console's own
/// streams do (so the file offset stays shared with the shell and the other programs writing there, which a
/// FileStream's positioned writes would not do), but without Console's terminal set-up (see <see cref="StandardIo"/>).
/// A write to a closed pipe on standard output ends the command with <see cref="ExitCode.BrokenPipe"/>, where Console
/// would have reported success; a failed write on standard error is dropped, there being nowhere left to say so.
/// Disposing leaves the descriptor open.
/// </summary>
internal sealed class StandardStream(int descriptor) : Stream
{
    /// <inheritdoc />
    public override bool CanRead => descriptor == StandardIo.Input;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => descriptor != StandardIo.Input;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>A text writer on standard output or error, flushed at every write as Console's are, safe to share between threads.</summary>
    public static TextWriter Writer(int descriptor) =>
        TextWriter.Synchronized(new StreamWriter(new StandardStream(descriptor), new System.Text.UTF8Encoding(false)) { AutoFlush = true });

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer) => StandardIo.Read(descriptor, buffer);

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        int error = StandardIo.Write(descriptor, buffer);
        if (error == 0 || descriptor == StandardIo.Error)
        {
            return;
        }

        // Not an IOException: a copy that latches write failures to read its body to the end must not wait for the rest
        // of a download nobody reads.
        throw error == StandardIo.BrokenPipe
            ? new UserFacingException(ExitCode.BrokenPipe, "standard output was closed before everything was written (broken pipe)")
            : new IOException($"cannot write standard output: {Marshal.GetPInvokeErrorMessage(error)}", error);
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();
}
