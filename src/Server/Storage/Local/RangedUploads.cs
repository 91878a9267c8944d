using System.Security.Cryptography;
using System.Text;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// The ranged uploads in progress (<see cref="RangedFile"/>), by their name: one per (subtree and path, size,
/// algorithm, the client's transfer id), shared by every connection and every subtree view of the store. They live
/// as long as the server process: the sweep at the next start removes their partial files like any temp file.
/// </summary>
internal sealed class RangedUploads(StagingArea staging, TimeProvider timeProvider)
{
    private readonly Dictionary<string, RangedFile> _uploads = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>
    /// The name of a ranged upload: the transfer id is bound to the path below the server's root (as a resume key
    /// is), the size and the algorithm, so a client cannot reach another path's ranges by choosing ids.
    /// </summary>
    public static string Name(byte[] transferId, string pathBelowRoot, long size, string algorithm) =>
        Convert.ToHexStringLower(SHA256.HashData([.. transferId, 0, .. Encoding.UTF8.GetBytes(FormattableString.Invariant($"{pathBelowRoot}\n{size}\n{algorithm}"))]))[..32];

    /// <summary>The upload of <paramref name="name"/>, if one is in progress.</summary>
    public RangedFile? Find(string name)
    {
        lock (_gate)
        {
            return _uploads.GetValueOrDefault(name);
        }
    }

    /// <summary>The upload of <paramref name="name"/>; a new one, with an empty partial file of the whole size, when none is in progress.</summary>
    public RangedFile GetOrCreate(string name, string normalized, long size, string algorithm)
    {
        lock (_gate)
        {
            if (_uploads.TryGetValue(name, out var existing))
            {
                return existing;
            }

            var file = staging.CreateTempReadWrite(normalized, out var tempPath, out var release);
            try
            {
                // Sparse until the ranges fill it; its length is the file's from the start, so ranges write anywhere.
                StorageErrors.Wrap(normalized, () =>
                {
                    file.SetLength(size);
                    return true;
                });
            }
            catch
            {
                file.Dispose();
                File.Delete(tempPath);
                release();
                throw;
            }

            var upload = new RangedFile(name, normalized, size, algorithm, file, tempPath, release, timeProvider);
            _uploads.Add(name, upload);
            return upload;
        }
    }

    /// <summary>Forgets an upload (being committed, or given up).</summary>
    public void Remove(RangedFile upload)
    {
        lock (_gate)
        {
            if (_uploads.TryGetValue(upload.Key, out var held) && held == upload)
            {
                _uploads.Remove(upload.Key);
            }
        }
    }

    /// <summary>
    /// Removes the uploads no connection used since <paramref name="cutoff"/>, with their partial files. Returns how many.
    /// Cancelled, it takes none; once it has taken them from the registry, it closes and deletes them all.
    /// </summary>
    public async Task<int> RemoveStaleAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        List<RangedFile> stale;
        lock (_gate)
        {
            stale = [.. _uploads.Values.Where(u => u.LastUsed < cutoff && !u.InUse)];
            foreach (var upload in stale)
            {
                _uploads.Remove(upload.Key);
            }
        }

        // Not cancellable: an upload taken out of the registry and left undisposed would keep its file open and on disk.
        foreach (var upload in stale)
        {
            await upload.DisposeAsync();
        }

        return stale.Count;
    }
}
