namespace FileXfer.Platform;

/// <summary>
/// Tells a regular file from a FIFO, a socket or a device, which .NET does not on Unix (it reports them all as
/// files). Opening a FIFO to read it blocks until someone writes to it, so a transfer must skip them first.
/// </summary>
public static class FileTypes
{
    /// <summary>
    /// True when <paramref name="path"/> (following symbolic links) is a regular file. Where the check is not
    /// available (not Linux), true for anything .NET sees as a file.
    /// </summary>
    public static bool IsRegularFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux())
        {
            return File.Exists(path);
        }

        return Posix.TryStat(path, followLinks: true, out int mode, out _, out _) && (mode & Posix.FileTypeMask) == Posix.RegularFileType;
    }
}
