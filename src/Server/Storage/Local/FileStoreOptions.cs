namespace FileXfer.Server.Storage.Local;

/// <summary>Settings of the file store.</summary>
public sealed class FileStoreOptions
{
    /// <summary>The largest file the server accepts. Default: 1 TiB.</summary>
    public long MaxFileSize { get; set; } = 1L << 40;

    /// <summary>Free space to keep on the storage beyond a file's size before a put is accepted. Default: none.</summary>
    public long ReserveBytes { get; set; }

    /// <summary>How long a partial upload kept for resuming may stay untouched before it is removed. Default: 24 hours.</summary>
    public TimeSpan PartialMaxAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// The most entries one directory may hold to be listed (a listing holds a directory's names while it is sent,
    /// about 60 bytes each). Trees are not limited: a recursive listing streams. Default: 1,000,000.
    /// </summary>
    public int MaxListEntries { get; set; } = 1_000_000;

    /// <summary>The clock of the partials' ages and of the free-space probe's interval. Default: the system's.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// How uploads are made durable before they get their names: one <c>syncfs</c> for a group only on file systems
    /// where that reaches every file, else an <c>fsync</c> of each. Default: <see cref="SyncPolicy.Default"/>.
    /// </summary>
    public SyncPolicy SyncPolicy { get; set; } = SyncPolicy.Default;
}
