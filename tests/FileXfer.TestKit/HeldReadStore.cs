using FileXfer.Protocol.Framing;
using FileXfer.Server.Storage;

namespace FileXfer.TestKit;

/// <summary>
/// A store whose file contents give their first read at once and hold every later one until <see cref="Release"/>: a
/// server over it works on a Get or a Hash of a file larger than one read for as long as the test wants, with some of
/// the work done (a slow disk or object store, without waiting real time). <see cref="Holding"/> completes when a read is
/// held.
/// </summary>
public sealed class HeldReadStore(IStore inner) : IStore
{
    private readonly TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completed once a read is held.</summary>
    public Task Holding => _holding.Task;

    public long MaxFileSize => inner.MaxFileSize;

    public IStoreSession OpenSession(string subtree) => new Session(this, inner.OpenSession(subtree));

    /// <summary>Lets every held read, and every later one, go on.</summary>
    public void Release() => _released.TrySetResult();

    private async ValueTask HoldAsync(CancellationToken cancellationToken)
    {
        _holding.TrySetResult();
        await _released.Task.WaitAsync(cancellationToken);
    }

    private sealed class Session(HeldReadStore store, IStoreSession inner) : IStoreSession
    {
        public long MaxFileSize => inner.MaxFileSize;

        public bool IsAbandoned => inner.IsAbandoned;

        public bool SetsParentTimes => inner.SetsParentTimes;

        public ValueTask JoinRunAsync(string scope, RunTicket ticket, CancellationToken cancellationToken) => inner.JoinRunAsync(scope, ticket, cancellationToken);

        public ValueTask<RemoteEntry> StatAsync(string path, CancellationToken cancellationToken) => inner.StatAsync(path, cancellationToken);

        public IAsyncEnumerable<ListedEntry> ListAsync(string path, bool recursive, CancellationToken cancellationToken) => inner.ListAsync(path, recursive, cancellationToken);

        public ValueTask<MadeDirectory> MakeDirectoryAsync(string path, DateTimeOffset? modified, int? mode, DateTimeOffset? parentModified, CancellationToken cancellationToken) =>
            inner.MakeDirectoryAsync(path, modified, mode, parentModified, cancellationToken);

        public ValueTask<RemoteEntry> DeleteAsync(string path, CancellationToken cancellationToken) => inner.DeleteAsync(path, cancellationToken);

        public async ValueTask<IStoredFile> OpenReadAsync(string path, CancellationToken cancellationToken) =>
            new HeldFile(store, await inner.OpenReadAsync(path, cancellationToken));

        public Task TakeOverResumeKeyAsync(byte[] resumeKey, string path, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken) =>
            inner.TakeOverResumeKeyAsync(resumeKey, path, wait, timeProvider, cancellationToken);

        public ValueTask<IUpload> BeginUploadAsync(UploadStart start, CancellationToken cancellationToken) => inner.BeginUploadAsync(start, cancellationToken);

        public ValueTask<IReadOnlyList<Protocol.FileXferException?>> CommitAsync(IReadOnlyList<IUpload> uploads, CancellationToken cancellationToken) =>
            inner.CommitAsync(uploads, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class HeldFile(HeldReadStore store, IStoredFile inner) : IStoredFile
    {
        public RemoteEntry Entry => inner.Entry;

        public long Length => inner.Length;

        public Stream Content { get; } = new HeldStream(store, inner.Content);

        public byte[]? StoredHash(string algorithm) => inner.StoredHash(algorithm);

        // Through the content, so every byte sent is held like every byte hashed.
        public bool CanSendDirectly => false;

        public Task SendToAsync(System.Net.Sockets.Socket socket, long offset, long count, TimeSpan? stallTimeout, TimeProvider timeProvider, CancellationToken cancellationToken) =>
            throw new NotSupportedException("a held file is read through its content");

        public async ValueTask DisposeAsync()
        {
            await Content.DisposeAsync();
            await inner.DisposeAsync();
        }
    }

    private sealed class HeldStream(HeldReadStore store, Stream inner) : Stream
    {
        private bool _firstDone;

        public override bool CanRead => true;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_firstDone)
            {
                await store.HoldAsync(cancellationToken);
            }

            _firstDone = true;
            return await inner.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
