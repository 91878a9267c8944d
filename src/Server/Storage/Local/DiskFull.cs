namespace FileXfer.Server.Storage.Local;

/// <summary>Recognizes "no space left on device" among I/O errors.</summary>
internal static class DiskFull
{
    private const int Enospc = 28;
    private const int Edquot = 122;
    private const int WindowsDiskFull = 0x70;
    private const int WindowsHandleDiskFull = 0x27;

    public static bool Is(IOException exception)
    {
        int code = exception.HResult & 0xFFFF;
        return code is Enospc or Edquot or WindowsDiskFull or WindowsHandleDiskFull
            || exception.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
    }
}
