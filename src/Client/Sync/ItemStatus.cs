namespace FileXfer.Client.Sync;

/// <summary>What happened to one item of a tree transfer.</summary>
public enum ItemStatus
{
    /// <summary>Sent or received and verified (or, in a dry run, would be).</summary>
    Transferred,

    /// <summary>Already the same on both sides.</summary>
    Skipped,

    /// <summary>Failed; the batch went on.</summary>
    Failed,

    /// <summary>Deleted from the server (or, in a dry run, would be).</summary>
    Deleted,

    /// <summary>
    /// The source vanished or changed while the run went on (a file deleted or rewritten after the walk saw it): not
    /// transferred, and a warning rather than a failure (exit code 24, as rsync's).
    /// </summary>
    Vanished,
}
