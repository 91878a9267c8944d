using System.Security.Cryptography;
using System.Text;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// Starting an upload: the path, size and space checked, its temp file (unnamed in its directory, named in staging, or
/// the partial kept for its resume key), and the take-over of a partial another upload still holds.
/// </summary>
public sealed partial class FileStore
{
    /// <summary>
    /// Starts an upload of <paramref name="path"/>: checks the path and the free space, creates missing parent
    /// directories and a temp file. Its length may not be known yet: <paramref name="sizeHint"/> is checked against the
    /// free space, <paramref name="declaredSize"/> (when known) against the size limit and, at commit, the body. With a
    /// <paramref name="resumeKey"/> the temp file is the partial upload kept under that
    /// key (created when there is none), so an interrupted upload can continue where it stopped. A key still
    /// in use by another upload (see <see cref="TakeOverResumeKeyAsync"/>) gets a fresh, non-resumable temp file instead. With <paramref name="directories"/>
    /// (the connection's), the destination's directory is checked through a handle kept from an earlier file of it,
    /// and kept for the next. With <paramref name="deferCheck"/> (the body follows the request at once, as in a pipelined
    /// put), a destination in a kept directory is not looked at before its publish, which looks at it in any case: a
    /// directory there is then refused when the upload is published rather than before its body is read.
    /// </summary>
    public PendingUpload BeginUpload(string path, long? declaredSize, long sizeHint, byte[]? resumeKey = null, DirectoryHandles? directories = null, bool deferCheck = false)
    {
        long size = declaredSize ?? sizeHint;
        var normalized = NormalizeUploadPath(path);
        if (size > Options.MaxFileSize)
        {
            throw new FileXferException(ErrorCode.TooLarge, $"file of {size} bytes exceeds the server's limit of {Options.MaxFileSize}");
        }

        _freeSpace.Ensure(size);
        bool resumable = resumeKey is { Length: > 0 };
        if (!resumable && directories is not null
            && (deferCheck ? StoreRoot.TrySplit(normalized, out var directory, out _) && directories.Peek(directory) is not null : UploadPublisher.TryCheckInKeptDirectory(normalized, directories)))
        {
            return BeginTemp(normalized, Path.Combine(Root, normalized), declaredSize, directories);
        }

        var destination = _root.PrepareFileDestination(normalized);
        if (directories is not null)
        {
            _publisher.KeepParent(directories, normalized, destination, evict: true);
        }

        if (resumable)
        {
            var name = ResumeName(resumeKey!, normalized);
            var claim = new ResumeClaim();
            if (_staging.TryClaim(name, claim))
            {
                try
                {
                    var resumableTemp = _staging.ResumablePath(name);
                    var partial = StorageErrors.Wrap(normalized, () => InlineFileStream.OpenResumable(resumableTemp));
                    return new PendingUpload(_publisher, normalized, destination, resumableTemp, partial, declaredSize, () => _staging.Release(name, claim), directories, _staging.Device)
                    {
                        Revoked = claim.Revoked,
                    };
                }
                catch
                {
                    _staging.Release(name, claim);
                    throw;
                }
            }
        }

        return BeginTemp(normalized, destination, declaredSize, directories);
    }

    /// <summary>
    /// A fresh temp file for an upload to <paramref name="normalized"/>: unnamed in its destination's directory when that
    /// directory's handle is kept and its file system can make such files, else named in the staging area. An unnamed
    /// file is allocated where it will live (on ext4, near its directory, as a file written in place would be, rather
    /// than every upload's inode near the staging area) and leaves nothing behind if it is never published.
    /// </summary>
    private PendingUpload BeginTemp(string normalized, string destination, long? declaredSize, DirectoryHandles? directories)
    {
        if (directories is not null && StoreRoot.TrySplit(normalized, out var directory, out _) && directories.Peek(directory, out ulong device) is { } kept
            && Posix.TryCreateUnnamed(kept, out _) is { } unnamed)
        {
            return new PendingUpload(_publisher, normalized, destination, tempPath: null, InlineFileStream.FromHandle(unnamed, FileAccess.Write, length: 0), declaredSize, static () => { }, directories, device);
        }

        var stream = _staging.CreateTemp(normalized, out var tempPath, out var release);
        return new PendingUpload(_publisher, normalized, destination, tempPath, stream, declaredSize, release, directories, _staging.Device);
    }

    /// <summary>
    /// Takes the partial of this key and path over from another upload that still holds it: a client that reconnects
    /// after a stall or a vanished connection, before the server has noticed that the old connection is gone, should
    /// resume that partial rather than start over beside it. The holder is revoked (its upload is abandoned, see
    /// <see cref="PendingUpload.Revoked"/>) and this waits, at most <paramref name="timeout"/> on
    /// <paramref name="timeProvider"/>, until it has let go; the next <see cref="BeginUpload(string, long?, long, byte[], DirectoryHandles, bool)"/>
    /// with the key then gets the partial. A holder that does not let go in time (its upload is being committed) keeps
    /// it, and the new upload gets a fresh temp file.
    /// </summary>
    public async Task TakeOverResumeKeyAsync(byte[] resumeKey, string path, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resumeKey);
        if (resumeKey.Length == 0 || !RemotePath.TryNormalize(path, out var normalized, out _)
            || _staging.Holder(ResumeName(resumeKey, normalized)) is not { } holder)
        {
            return;
        }

        await holder.RevokeAsync();
        try
        {
            await holder.Released.WaitAsync(timeout, timeProvider, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Still held: this upload gets a fresh temp file and starts over.
        }
    }

    /// <summary>The normalized path of an upload's destination, which cannot be the root.</summary>
    private static string NormalizeUploadPath(string path)
    {
        var normalized = RemotePath.Normalize(path);
        return normalized.Length == 0 ? throw new FileXferException(ErrorCode.IsADirectory, "cannot put to the root directory itself") : normalized;
    }

    private string ResumeName(byte[] key, string normalized) =>
        // The key names the client's source and destination; hashing it with the destination (as a path below the
        // server's root, so two subtrees never share a partial) keeps clients from reaching each other's partials
        // by choosing keys.
        Convert.ToHexStringLower(SHA256.HashData([.. key, .. Encoding.UTF8.GetBytes(RemotePath.Combine(_subtree, normalized))]))[..32];
}
