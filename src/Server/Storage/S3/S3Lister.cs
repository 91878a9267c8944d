using System.Runtime.CompilerServices;
using Amazon.S3.Model;

namespace FileXfer.Server.Storage.S3;

/// <summary>
/// Listings of the object store: one directory read page by page (ListObjectsV2 with the <c>/</c> delimiter: its
/// objects are its files, its common prefixes its directories), sorted by name (S3 sorts keys by their bytes, where
/// <c>a/</c> comes after <c>a-b</c>: not the protocol's name order) and each entry described with its metadata (the
/// listing itself carries none). A tree is walked depth first, holding the directories on the walked path.
/// </summary>
internal sealed class S3Lister(S3StoreSession session, int maxEntries)
{
    // HEADs in flight while a directory's entries are described.
    private const int Describing = 16;

    public async IAsyncEnumerable<ListedEntry> ListAsync(string normalized, bool recursive, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var entries = await ReadDirectoryAsync(normalized, cancellationToken);
        foreach (var listed in entries)
        {
            yield return listed;
            if (recursive && listed.Omitted is null && listed.Entry.Kind == EntryKind.Directory)
            {
                await foreach (var child in ListAsync(RemotePath.Combine(normalized, listed.Entry.Name), recursive: true, cancellationToken))
                {
                    yield return child with { Entry = child.Entry with { Name = RemotePath.Combine(listed.Entry.Name, child.Entry.Name) } };
                }
            }
        }
    }

    /// <summary>One directory, sorted and described; a bad path fails here, before any entry.</summary>
    private async Task<List<ListedEntry>> ReadDirectoryAsync(string normalized, CancellationToken cancellationToken)
    {
        var store = session.Store;
        var prefix = session.PrefixOf(normalized);
        var files = new List<S3Object>();
        var directories = new List<string>();
        bool any = normalized.Length == 0;
        string? token = null;
        do
        {
            var page = await S3Errors.WrapAsync(normalized, () => store.Client.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = store.Bucket, Prefix = prefix, Delimiter = "/", ContinuationToken = token }, cancellationToken));
            foreach (var item in page.S3Objects ?? [])
            {
                any = true;
                if (item.Key != prefix)
                {
                    files.Add(item);
                }
            }

            foreach (var common in page.CommonPrefixes ?? [])
            {
                any = true;
                var name = common[prefix.Length..^1];
                if (!(session.HidesReserved && normalized.Length == 0 && name == S3Store.ReservedName))
                {
                    directories.Add(name);
                }
            }

            if (files.Count + directories.Count > maxEntries)
            {
                throw new FileXferException(ErrorCode.TooLarge, $"'{RemotePath.Escape(normalized)}' has more than {maxEntries} entries (the server's --max-list-entries)");
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);

        if (!any)
        {
            throw await session.TryDescribeFileAsync(normalized, cancellationToken) is not null
                ? new FileXferException(ErrorCode.NotADirectory, $"'{RemotePath.Escape(normalized)}' is not a directory")
                : S3Errors.NotFound(normalized);
        }

        // A key and a prefix of the same name (a file "a" beside "a/b"): the directory is listed, the file reported.
        var directoryNames = new HashSet<string>(directories, StringComparer.Ordinal);
        var pending = new List<(string Name, S3Object? File)>(files.Count + directories.Count);
        pending.AddRange(files.Select(f => (f.Key[prefix.Length..], (S3Object?)f)));
        pending.AddRange(directories.Select(d => (d, (S3Object?)null)));
        pending.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name) is var c && c != 0 ? c : (a.File is null).CompareTo(b.File is null));

        var described = new ListedEntry[pending.Count];
        await Parallel.ForAsync(0, pending.Count, new ParallelOptions { MaxDegreeOfParallelism = Describing, CancellationToken = cancellationToken }, async (i, token) =>
        {
            var (name, file) = pending[i];
            var path = RemotePath.Combine(normalized, name);
            string? omitted = RemotePath.IsValidName(name, out var error) ? null : error ?? "invalid name";
            if (file is not null)
            {
                omitted ??= directoryNames.Contains(name) ? "a file and a directory share this name in the object store" : null;
                var head = omitted is null ? await session.TryHeadAsync(path, file.Key, token) : null;
                described[i] = new ListedEntry(
                    head is not null ? S3StoreSession.FileEntry(name, head) : new RemoteEntry(name, EntryKind.File, file.Size ?? 0, S3StoreSession.ToOffset(file.LastModified), null),
                    omitted);
            }
            else
            {
                var marker = omitted is null ? await session.TryHeadAsync(path, prefix + name + "/", token) : null;
                described[i] = new ListedEntry(
                    marker is not null ? S3StoreSession.DirectoryEntry(name, marker.Metadata, marker.LastModified) : new RemoteEntry(name, EntryKind.Directory, 0, DateTimeOffset.UnixEpoch, null),
                    omitted);
            }
        });

        return [.. described];
    }
}
