using System.Security.Cryptography;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// One connection's range of a <see cref="RangedFile"/>: its body is written in place at the range's offset
/// (positional writes, no copy), and the range counts only once its hash checked out.
/// </summary>
internal sealed class RangeUpload : IRangeUpload
{
    private readonly RangedFile _file;
    private readonly RangeSlot _slot;
    private readonly ResumeClaim _claim;
    private readonly LatchingWriteStream _sink;
    private readonly RangeBodyStream _body;

    public RangeUpload(RangedFile file, RangeSlot slot, ResumeClaim claim)
    {
        _file = file;
        _slot = slot;
        _claim = claim;
        _body = new RangeBodyStream(file, slot);
        _sink = new LatchingWriteStream(_body);
        HeldBytes = slot.Part.Written;
    }

    public FileRange Range => _slot.Range;

    public long HeldBytes { get; }

    public CancellationToken Revoked => _claim.Revoked;

    public Stream Body => _sink;

    public async Task HashPrefixAsync(long count, ContentHasher hasher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        await using var held = new RangeReadStream(_file.Handle, Range.Offset, count);
        await BodyCopier.CopyExactlyAsync(held, Stream.Null, count, hasher, progress: null, cancellationToken);
    }

    public void ContinueAt(long offset)
    {
        _file.Rewind(_slot, offset);
        _body.Position = offset;
    }

    public void Complete(byte[] receivedHash, byte[] senderHash)
    {
        if (_sink.Failure is { } failure)
        {
            _file.Rewind(_slot, 0);
            throw failure is IOException io && DiskFull.Is(io)
                ? new FileXferException(ErrorCode.InsufficientStorage, "no space left on the server's storage", failure)
                : new FileXferException(ErrorCode.Internal, $"writing the range failed: {failure.Message}", failure);
        }

        if (!CryptographicOperations.FixedTimeEquals(receivedHash, senderHash))
        {
            // Its bytes cannot be trusted: the next try of this range starts at its beginning.
            _file.Rewind(_slot, 0);
            throw new FileXferException(ErrorCode.IntegrityMismatch, $"hash of range {Range} does not match the sender's for '{RemotePath.Escape(_file.Path)}'");
        }

        _file.Verified(_slot);
    }

    public ValueTask DisposeAsync()
    {
        _file.Release(_slot, _claim);
        return ValueTask.CompletedTask;
    }

    /// <summary>Writes at the range's offset plus the position, never past the range's end.</summary>
    private sealed class RangeBodyStream(RangedFile file, RangeSlot slot) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => slot.Range.Length;

        public override long Position { get; set; }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.Length > slot.Range.Length - Position)
            {
                throw new IOException($"a write past the end of range {slot.Range}");
            }

            await RandomAccess.WriteAsync(file.Handle, buffer, slot.Range.Offset + Position, cancellationToken);
            Position += buffer.Length;
            file.Wrote(slot, buffer.Length);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("asynchronous writes only");

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
