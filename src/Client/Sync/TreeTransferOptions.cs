namespace FileXfer.Client.Sync;

/// <summary>Settings of a tree transfer.</summary>
public sealed class TreeTransferOptions
{
    /// <summary>Compare files by hash instead of size and modification time.</summary>
    public bool Checksum { get; set; }

    /// <summary>Report what would be done; change nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>Delete remote files and directories the source does not have (put only).</summary>
    public bool Delete { get; set; }

    /// <summary>The most deletions allowed in one run; more refuses every deletion. Default: 1000.</summary>
    public int MaxDelete { get; set; } = 1000;

    /// <summary>
    /// Connections to spread files over. Default: 2, so that the server commits files on two threads while
    /// the client reads and hashes them.
    /// </summary>
    public int Parallel { get; set; } = 2;

    /// <summary>Told the number of files and bytes to transfer once the plan is made (for a progress bar).</summary>
    public Action<int, long>? Planned { get; set; }

    /// <summary>Which paths take part.</summary>
    public PathFilter Filter { get; set; } = PathFilter.All;
}
