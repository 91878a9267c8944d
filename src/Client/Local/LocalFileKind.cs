namespace FileXfer.Client.Local;

/// <summary>The kinds of local path that a transfer must not treat as a regular file (see <see cref="SpecialFiles"/>).</summary>
internal enum LocalFileKind
{
    /// <summary>A regular file, a directory, nothing at all, or a path whose kind cannot be told here.</summary>
    Other,

    /// <summary>A FIFO (named pipe).</summary>
    Fifo,

    /// <summary>A character device, such as <c>/dev/null</c>.</summary>
    CharacterDevice,

    /// <summary>A block device: a disk or a partition.</summary>
    BlockDevice,

    /// <summary>A Unix domain socket.</summary>
    Socket,
}
