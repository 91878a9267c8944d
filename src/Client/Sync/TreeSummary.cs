namespace FileXfer.Client.Sync;

/// <summary>The counts of a finished tree transfer.</summary>
public sealed record TreeSummary(string Operation, int Transferred, int Skipped, int Failed, int Deleted, long Bytes, TimeSpan Elapsed, bool DryRun, bool IntegrityFailure)
{
    /// <summary>Sources that vanished or changed during the run (a warning: exit code 24 when nothing failed).</summary>
    public int Vanished { get; init; }
}
