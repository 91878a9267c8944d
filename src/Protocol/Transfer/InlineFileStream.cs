namespace FileXfer.Protocol.Transfer;

/// <summary>
/// A file opened for direct (unbuffered) reads or writes whose asynchronous methods run inline. On Unix, .NET
/// runs every asynchronous file operation on the thread pool; for the page-cache reads and writes of a transfer
/// that hop costs more than the operation, and for thousands of small files it dominates. The bytes still
/// move through the caller's large pooled buffer, one system call per chunk.
/// </summary>
public sealed class InlineFileStream : Stream
{
    private readonly FileStream _file;

    private InlineFileStream(FileStream file) => _file = file;

    /// <summary>The underlying file, for <see cref="FileStream.Flush(bool)"/>, its handle and its length.</summary>
    public FileStream File => _file;

    /// <inheritdoc />
    public override bool CanRead => _file.CanRead;

    /// <inheritdoc />
    public override bool CanSeek => _file.CanSeek;

    /// <inheritdoc />
    public override bool CanWrite => _file.CanWrite;

    /// <inheritdoc />
    public override long Length => _file.Length;

    /// <inheritdoc />
    public override long Position
    {
        get => _file.Position;
        set => _file.Position = value;
    }

    /// <summary>Opens an existing file for sequential reading; others may still read and write it.</summary>
    public static InlineFileStream OpenRead(string path) => new(new FileStream(path, new FileStreamOptions
    {
        Mode = FileMode.Open,
        Access = FileAccess.Read,
        Share = FileShare.ReadWrite,
        // Asynchronous only marks the handle (reads here stay inline): the server can then hand it to sendfile(2)
        // through Socket.SendPacketsAsync, which takes only such handles.
        Options = FileOptions.SequentialScan | FileOptions.Asynchronous,
        BufferSize = 0,
    }));

    /// <summary>
    /// Opens a partial file to read its prefix and continue writing it, creating it when missing (owner only). A
    /// symbolic link at <paramref name="path"/> is not followed (<c>O_NOFOLLOW</c> on Linux): the open fails instead,
    /// so a link planted under the partial's fixed name cannot make the transfer write through it.
    /// </summary>
    /// <exception cref="IOException">The path is a symbolic link, or cannot be opened.</exception>
    public static InlineFileStream OpenResumable(string path) =>
        OperatingSystem.IsLinux()
            ? new(new FileStream(NoFollow.OpenReadWrite(path), FileAccess.ReadWrite, bufferSize: 0))
            : OwnerOnly(path, FileMode.OpenOrCreate, FileAccess.ReadWrite);

    /// <summary>Creates a new file for writing, readable and writable by its owner only.</summary>
    public static InlineFileStream CreateNew(string path) => OwnerOnly(path, FileMode.CreateNew, FileAccess.Write);

    private static InlineFileStream OwnerOnly(string path, FileMode mode, FileAccess access)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            // Nobody else reads a file before it is complete and verified.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new(new FileStream(path, options));
    }

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_file.Read(buffer.Span));
    }

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _file.Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => _file.Read(buffer, offset, count);

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => _file.Write(buffer, offset, count);

    /// <inheritdoc />
    public override void Flush() => _file.Flush();

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Writes the file's data to the device before returning (fsync).</summary>
    public void FlushToDisk() => _file.Flush(flushToDisk: true);

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => _file.Seek(offset, origin);

    /// <inheritdoc />
    public override void SetLength(long value) => _file.SetLength(value);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await _file.DisposeAsync();
        await base.DisposeAsync();
    }
}
