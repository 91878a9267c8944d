namespace FileXfer.Server.Storage.S3;

/// <summary>Settings of the object store.</summary>
public sealed class S3StoreOptions
{
    /// <summary>The largest file the server accepts. Default: 1 TiB (S3 allows 5 TiB in 10,000 parts).</summary>
    public long MaxFileSize { get; set; } = 1L << 40;

    /// <summary>
    /// How long a partial upload (its staged parts) or an unfinished multipart upload may stay untouched before the
    /// sweep removes it. Default: 24 hours.
    /// </summary>
    public TimeSpan PartialMaxAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The most entries one directory may hold to be listed (a listing sorts one directory in memory). Default: 1,000,000.</summary>
    public int MaxListEntries { get; set; } = 1_000_000;

    /// <summary>
    /// The smallest part of an upload: a file up to this size is sent in one request at its commit, a larger one in
    /// parts of at least this size, larger when the declared size needs it (10,000 parts reach any file up to
    /// <see cref="MaxFileSize"/>). Default: 8 MiB; S3 requires at least 5 MiB.
    /// </summary>
    public int MinPartSize { get; set; } = 8 << 20;

    /// <summary>
    /// The largest object one CopyObject may copy: a larger file gets its name by a multipart copy (UploadPartCopy) in
    /// parts of this size. Default: 5 GiB, the limit of AWS S3 (Ceph has none); at least 5 MiB.
    /// </summary>
    public long MaxCopySize { get; set; } = 5L << 30;

    /// <summary>
    /// The parts of one upload sent at once; memory per upload is about (this + 1) parts, lent by the store to each
    /// upload in turn (<see cref="S3PartBuffers"/>). Default: 6 (seven parts of 8 MiB: a 1 GiB put peaks near 170 MiB
    /// of RSS, under the goal of 200; `aws s3 cp` sends 10 at once).
    /// </summary>
    public int PartsInFlight { get; set; } = 6;

    /// <summary>The clock of the partials' ages. Default: the system's.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
