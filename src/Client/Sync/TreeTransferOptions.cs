using FileXfer.Client.Resilience;

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

    /// <summary>The default of <see cref="Parallel"/>.</summary>
    public const int DefaultParallel = 4;

    /// <summary>
    /// Connections to spread files over. Default: 4, so that the server commits files on several threads while the
    /// client reads and hashes them, and one connection's flush to disk (its group commit) overlaps the others'
    /// transfers: on a disk, 4 connections put 5,000 small files 15–20% faster than 2; in memory (tmpfs) alike.
    /// </summary>
    public int Parallel { get; set; } = DefaultParallel;

    /// <summary>The default of <see cref="LongLinkParallel"/>.</summary>
    public const int DefaultLongLinkParallel = 16;

    /// <summary>The round trip from which a tree uses <see cref="LongLinkParallel"/> connections.</summary>
    public static readonly TimeSpan LongLinkRoundTrip = TimeSpan.FromMilliseconds(40);

    /// <summary>
    /// Connections to spread files over when the listing connection's round trip is at least
    /// <see cref="LongLinkRoundTrip"/>, if more than <see cref="Parallel"/>; they open as soon as that round trip is
    /// known. Default: 16: on a long link a connection's first round trips carry little (TCP's slow start), so more
    /// connections carry a tree of small files in fewer round trips. On the test bed (0.5% loss), 1,000 files of
    /// 4 KiB at 80 ms took 1.26 s over 4 connections, 1.11 s over 8 and 1.02 s over 16 (medians of 10); at 20 ms
    /// 0.42, 0.41 and 0.45 s, with more slow outliers the more connections (each connection's last packets lost
    /// cost a retransmission timeout the run waits for), hence 4 below 40 ms. A server admits 32 connections from
    /// one address by default. Set it to <see cref="Parallel"/> to keep that number whatever the link (the command
    /// line does when --parallel is given).
    /// </summary>
    public int LongLinkParallel { get; set; } = DefaultLongLinkParallel;

    /// <summary>
    /// The run whose connections the transfer's connect function opens (the <see cref="FileXferClientOptions.Run"/> it
    /// connects with), or null. When given, the long-link connections (<see cref="LongLinkParallel"/>) open as soon as
    /// the run's first TCP handshake showed a long round trip (<see cref="ClientRun.LinkRoundTrip"/>), instead of after
    /// the listing connection authenticated: two round trips earlier.
    /// </summary>
    public ClientRun? Run { get; set; }

    /// <summary>Told the number of files and bytes to transfer once the plan is made (for a progress bar).</summary>
    public Action<int, long>? Planned { get; set; }

    /// <summary>Which paths take part.</summary>
    public PathFilter Filter { get; set; } = PathFilter.All;

    /// <summary>
    /// How long a transfer connection opened ahead of the walk waits for its first file before it is closed (and opened
    /// again when a file comes). Default: 15 seconds.
    /// </summary>
    public TimeSpan SpeculativeIdle { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The clock of <see cref="SpeculativeIdle"/> (a fake one in tests). Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
