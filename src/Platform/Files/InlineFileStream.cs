using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FileXfer.Platform;

/// <summary>
/// A file opened for direct (unbuffered) reads or writes whose asynchronous methods run inline. On Unix, .NET
/// runs every asynchronous file operation on the thread pool; for the page-cache reads and writes of a transfer
/// that hop costs more than the operation, and for thousands of small files it dominates. The bytes still
/// move through the caller's large pooled buffer, one system call per chunk.
/// </summary>
/// <remarks>
/// It works on the file's handle with positioned reads and writes (<c>pread</c>/<c>pwrite</c> on Linux), keeping its
/// own position: no <c>lseek</c> to set up, no <c>fstat</c> for a length it already knows. A <see cref="FileStream"/>
/// over the same handle is made only when asked for (<see cref="File"/>).
/// </remarks>
public sealed class InlineFileStream : Stream
{
    private const int OwnerReadWrite = 0x180;

    private readonly SafeFileHandle _handle;
    private readonly FileAccess _access;
    private long _position;

    // The length when this stream knows it without asking: a file it created and alone writes, or one whose size the
    // opener has just read. Negative: ask the file system.
    private long _knownLength;

    // Positioned reads fail on a pipe or a FIFO: then the handle is read in sequence through .NET.
    private bool _sequential;
    private FileStream? _file;

    // Where the data not yet handed to the device's writeback starts (see WritebackInterval).
    private long _writebackFrom;

    private InlineFileStream(SafeFileHandle handle, FileAccess access, long knownLength)
    {
        _handle = handle;
        _access = access;
        _knownLength = knownLength;
    }

    private InlineFileStream(FileStream file, long knownLength)
        : this(file.SafeFileHandle, file.CanWrite ? file.CanRead ? FileAccess.ReadWrite : FileAccess.Write : FileAccess.Read, knownLength)
    {
        _file = file;
    }

    /// <summary>The file's handle.</summary>
    public SafeFileHandle Handle => _handle;

    /// <summary>A <see cref="FileStream"/> over the same handle, for APIs that take one (sendfile). Its position is its own.</summary>
    public FileStream File => _file ??= new FileStream(_handle, _access, bufferSize: 0, isAsync: _handle.IsAsync);

    /// <inheritdoc />
    public override bool CanRead => (_access & FileAccess.Read) != 0;

    /// <inheritdoc />
    /// <remarks>Asked of the file only when asked here (a pipe or a FIFO cannot seek).</remarks>
    public override bool CanSeek => !_sequential && File.CanSeek;

    /// <inheritdoc />
    public override bool CanWrite => (_access & FileAccess.Write) != 0;

    /// <inheritdoc />
    public override long Length => _knownLength >= 0 ? _knownLength : RandomAccess.GetLength(_handle);

    /// <inheritdoc />
    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    /// <summary>Opens an existing file for sequential reading; others may still read and write it.</summary>
    public static InlineFileStream OpenRead(string path) =>
        // Asynchronous only marks the handle (reads here stay inline): the server can then hand it to sendfile(2)
        // through Socket.SendPacketsAsync, which takes only such handles.
        new(System.IO.File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan | FileOptions.Asynchronous), FileAccess.Read, knownLength: -1);

    /// <summary>
    /// Wraps a handle the caller opened (with <see cref="Posix"/> calls), which the stream then owns. <paramref name="length"/>,
    /// when given, is the size the caller has just read: <see cref="Length"/> then answers it without asking again.
    /// </summary>
    public static InlineFileStream FromHandle(SafeFileHandle handle, FileAccess access, long? length = null)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return new(handle, access, length ?? -1);
    }

    /// <summary>
    /// Opens a partial file to read its prefix and continue writing it, creating it when missing (owner only). A
    /// symbolic link at <paramref name="path"/> is not followed (<c>O_NOFOLLOW</c> on Linux): the open fails instead,
    /// so a link planted under the partial's fixed name cannot make the transfer write through it.
    /// </summary>
    /// <exception cref="IOException">The path is a symbolic link, or cannot be opened.</exception>
    public static InlineFileStream OpenResumable(string path) =>
        OperatingSystem.IsLinux()
            ? new(NoFollow.OpenReadWrite(path), FileAccess.ReadWrite, knownLength: -1)
            : new(OwnerOnly(path, FileMode.OpenOrCreate, FileAccess.ReadWrite), knownLength: -1);

    /// <summary>Creates a new file for writing, readable and writable by its owner only.</summary>
    public static InlineFileStream CreateNew(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return new(OwnerOnly(path, FileMode.CreateNew, FileAccess.Write), knownLength: 0);
        }

        var abi = LinuxAbi.Current;
        int fd = Posix.Open(path, abi.WriteOnly | abi.Create | abi.Exclusive | abi.CloseOnExec, OwnerReadWrite);
        return fd >= 0
            ? new(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, knownLength: 0)
            : throw CreateFailure(Marshal.GetLastPInvokeError(), path);
    }

    /// <summary>
    /// Creates a new file named <paramref name="name"/> inside the directory held by <paramref name="directory"/>, for
    /// writing, readable and writable by its owner only (openat(2) with <c>O_CREAT | O_EXCL</c>). Linux only.
    /// </summary>
    /// <exception cref="IOException">The file exists or cannot be created.</exception>
    public static InlineFileStream CreateNewAt(SafeFileHandle directory, string name)
    {
        var handle = Posix.TryOpenAt(directory, name, LinuxAbi.Current.WriteOnly | LinuxAbi.Current.Create | LinuxAbi.Current.Exclusive, OwnerReadWrite, out int errno);
        return handle is not null ? new(handle, FileAccess.Write, knownLength: 0) : throw CreateFailure(errno, name);
    }

    private static Exception CreateFailure(int errno, string path) => errno switch
    {
        Posix.NoSuchFile or Posix.NotADirectory => new DirectoryNotFoundException($"could not find a part of the path '{path}'"),
        Posix.PermissionDenied or Posix.NotPermitted or Posix.ReadOnlyFileSystem => new UnauthorizedAccessException($"access to the path '{path}' is denied"),
        _ => new IOException($"cannot create '{path}': {Marshal.GetPInvokeErrorMessage(errno)}", errno),
    };

    private static FileStream OwnerOnly(string path, FileMode mode, FileAccess access)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            // Nobody else reads a file before it is complete and verified.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(path, options);
    }

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        int read = ReadCore(buffer);
        _position += read;
        return read;
    }

    /// <summary>
    /// Every this many bytes written in sequence, the device is asked to start writing them back
    /// (<see cref="Durable.StartWriteback"/>): a large received file is then mostly on the device by the time it is
    /// flushed, and that flush waits for the last stretch only.
    /// </summary>
    public const long WritebackInterval = 8 * 1024 * 1024;

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_position < _writebackFrom)
        {
            // Moved back (a resumed upload continues from what it held).
            _writebackFrom = _position;
        }

        WriteCore(buffer);
        if (_position - _writebackFrom >= WritebackInterval)
        {
            Durable.StartWriteback(_handle, _writebackFrom, _position - _writebackFrom);
            _writebackFrom = _position;
        }
    }

    private void WriteCore(ReadOnlySpan<byte> buffer)
    {
        if (OperatingSystem.IsLinux())
        {
            Posix.WriteAt(_handle, buffer, _position);
        }
        else
        {
            RandomAccess.Write(_handle, buffer, _position);
        }

        _position += buffer.Length;
        if (_knownLength >= 0 && _position > _knownLength)
        {
            _knownLength = _position;
        }
    }

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Flush()
    {
        // Nothing is buffered here.
    }

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Writes the file's data to the device before returning (fsync).</summary>
    public void FlushToDisk()
    {
        if (OperatingSystem.IsLinux())
        {
            Durable.FsyncFile(_handle);
        }
        else
        {
            File.Flush(flushToDisk: true);
        }
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };
        return _position;
    }

    /// <inheritdoc />
    /// <remarks>As <see cref="FileStream.SetLength"/>, a position past the new end moves to it.</remarks>
    public override void SetLength(long value)
    {
        RandomAccess.SetLength(_handle, value);
        if (_knownLength >= 0)
        {
            _knownLength = value;
        }

        _position = Math.Min(_position, value);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file?.Dispose();
            _handle.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            await _file.DisposeAsync();
        }

        _handle.Dispose();
        await base.DisposeAsync();
    }

    private int ReadCore(Span<byte> buffer)
    {
        if (OperatingSystem.IsLinux() && !_sequential)
        {
            try
            {
                return Posix.ReadAt(_handle, buffer, _position);
            }
            catch (IOException ex) when (ex.HResult == Posix.NotSeekable)
            {
                // A FIFO or a pipe: read it in sequence from here on.
                _sequential = true;
            }
        }

        return _sequential ? File.Read(buffer) : RandomAccess.Read(_handle, buffer, _position);
    }
}
