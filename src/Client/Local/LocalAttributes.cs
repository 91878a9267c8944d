namespace FileXfer.Client.Local;

/// <summary>
/// The sender's time and permission bits on a local file or directory, and a refusal of them told rather than raised: a
/// file system that refuses them, or an entry another user owns (only its owner may set an explicit time or a mode).
/// </summary>
internal static class LocalAttributes
{
    /// <summary>
    /// Gives the directory at <paramref name="path"/> the permission bits <paramref name="mode"/> (the owner keeping full
    /// access, so the tool can still write into it) and the time <paramref name="modified"/>, each tried; returns the
    /// refusal (<see cref="Describe"/>), or null when both were set.
    /// </summary>
    public static (string What, string Reason)? TrySetDirectory(string path, DateTimeOffset modified, int? mode)
    {
        Exception? modeFailure = null;
        Exception? timeFailure = null;
        if (mode is { } bits && !OperatingSystem.IsWindows())
        {
            try
            {
                File.SetUnixFileMode(path, (UnixFileMode)(bits & 0x1FF) | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                modeFailure = ex;
            }
        }

        try
        {
            Directory.SetLastWriteTimeUtc(path, modified.UtcDateTime);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            timeFailure = ex;
        }

        return Describe(timeFailure, modeFailure);
    }

    /// <summary>What could not be set (<c>time</c>, <c>permission bits</c>, or both) and why; null when neither failed.</summary>
    public static (string What, string Reason)? Describe(Exception? timeFailure, Exception? modeFailure)
    {
        if ((timeFailure ?? modeFailure) is not { } refused)
        {
            return null;
        }

        var what = (timeFailure, modeFailure) switch
        {
            (not null, not null) => "time and permission bits",
            (not null, null) => "time",
            _ => "permission bits",
        };
        // .NET words a refusal (EPERM, EACCES) with a path, which may be a temp file's and is named by the caller anyway.
        return (what, refused is UnauthorizedAccessException ? "not permitted" : refused.Message);
    }
}
