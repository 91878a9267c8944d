using FileXfer.Server.Storage.Local;

namespace FileXfer.Server.Tests.Support;

/// <summary>The commit of one upload, as the handler's group commit does it for many.</summary>
public static class PendingUploadCommits
{
    /// <summary>Seals the upload and commits it alone (<see cref="GroupCommit"/>); a refused upload throws.</summary>
    public static async Task CommitAsync(this PendingUpload upload, long receivedLength, byte[] receivedHash, byte[] senderHash, DateTimeOffset? modified, int? mode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        cancellationToken.ThrowIfCancellationRequested();
        upload.Seal(receivedLength, receivedHash, senderHash, modified, mode, algorithm: null);
        if ((await GroupCommit.CommitAsync([upload]))[0] is { } failure)
        {
            throw failure;
        }
    }
}
