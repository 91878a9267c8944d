using System.Runtime.CompilerServices;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Server.Storage;

namespace FileXfer.Client.Tests.Trees;

/// <summary>
/// A store whose tree is generated, not stored, behind the real server's seam (<see cref="IStore"/>): <c>tree/</c>
/// holds <paramref name="directories"/> directories of <paramref name="filesPerDirectory"/> files each, produced one
/// entry at a time as the real handler sends them, so a test can list millions of entries through the real client
/// and server code without creating them. Optional quirks: a directory that vanishes (listed by its parent, NotFound
/// when listed itself) and a directory whose listing names one file twice. Read only.
/// </summary>
internal sealed class GeneratedStore(int directories, int filesPerDirectory, string? vanishing, string? duplicating) : IStore
{
    public static readonly DateTimeOffset Time = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    public long MaxFileSize => 1L << 40;

    public IStoreSession OpenSession(string subtree) => new Session(this);

    private sealed class Session(GeneratedStore store) : IStoreSession
    {
        public long MaxFileSize => store.MaxFileSize;

        // A read-only store: nothing to fence.
        public bool IsAbandoned => false;

        public ValueTask JoinRunAsync(string scope, RunTicket ticket, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<RemoteEntry> StatAsync(string path, CancellationToken cancellationToken) =>
            path.Trim('/') switch
            {
                "" or "tree" => ValueTask.FromResult(new RemoteEntry(path, EntryKind.Directory, 0, Time, 0x1ED)),
                _ => throw new FileXferException(ErrorCode.NotFound, $"'{path}' not found"),
            };

        public async IAsyncEnumerable<ListedEntry> ListAsync(string path, bool recursive, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.CompletedTask;
            if (recursive)
            {
                throw new FileXferException(ErrorCode.BadRequest, "the generated tree is listed one directory at a time");
            }

            path = path.Trim('/');
            if (path == "tree")
            {
                for (int i = 0; i < store._directories; i++)
                {
                    yield return new ListedEntry(new RemoteEntry(GeneratedTreeServer.DirectoryName(i), EntryKind.Directory, 0, Time, 0x1ED), null);
                }

                yield break;
            }

            if (!path.StartsWith("tree/", StringComparison.Ordinal) || path == "tree/" + store._vanishing)
            {
                throw new FileXferException(ErrorCode.NotFound, $"'{path}' not found");
            }

            for (int i = 0; i < store._filesPerDirectory; i++)
            {
                yield return new ListedEntry(new RemoteEntry(GeneratedTreeServer.FileName(i), EntryKind.File, 4096 + i, Time, 0x1A4), null);
            }

            if (path == "tree/" + store._duplicating)
            {
                yield return new ListedEntry(new RemoteEntry(GeneratedTreeServer.FileName(0), EntryKind.File, 1, Time, 0x1A4), null);
            }
        }

        public bool SetsParentTimes => false;

        public ValueTask<MadeDirectory> MakeDirectoryAsync(string path, DateTimeOffset? modified, int? mode, DateTimeOffset? parentModified, CancellationToken cancellationToken) => throw ReadOnly();

        public ValueTask<RemoteEntry> DeleteAsync(string path, CancellationToken cancellationToken) => throw ReadOnly();

        public ValueTask<IStoredFile> OpenReadAsync(string path, CancellationToken cancellationToken) => throw ReadOnly();

        public Task TakeOverResumeKeyAsync(byte[] resumeKey, string path, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask<IUpload> BeginUploadAsync(UploadStart start, CancellationToken cancellationToken) => throw ReadOnly();

        public ValueTask<IReadOnlyList<FileXferException?>> CommitAsync(IReadOnlyList<IUpload> uploads, CancellationToken cancellationToken) => throw ReadOnly();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private static FileXferException ReadOnly() => new(ErrorCode.AccessDenied, "the generated tree is read only; its files have listings, not contents");
    }

    private readonly int _directories = directories;
    private readonly int _filesPerDirectory = filesPerDirectory;
    private readonly string? _vanishing = vanishing;
    private readonly string? _duplicating = duplicating;
}
