using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Support;

/// <summary>The commit of one upload, as the handler's group commit does it for many.</summary>
public static class PendingUploadCommits
{
    /// <summary>Seals the upload and commits it alone (<see cref="GroupCommit"/>); a refused upload throws.</summary>
    public static Task CommitAsync(this PendingUpload upload, long receivedLength, byte[] receivedHash, byte[] senderHash, DateTimeOffset? modified, int? mode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        cancellationToken.ThrowIfCancellationRequested();
        upload.Seal(receivedLength, receivedHash, senderHash, modified, mode, algorithm: null);
        return GroupCommit.Commit([upload])[0] is { } failure ? Task.FromException(failure) : Task.CompletedTask;
    }
}
