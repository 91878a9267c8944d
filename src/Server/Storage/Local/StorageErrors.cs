namespace FileXfer.Server.Storage.Local;

/// <summary>How the local store's file-system failures reach a client: as coded errors that name the remote path.</summary>
internal static class StorageErrors
{
    /// <summary>Runs a file-system action and turns its failures into coded errors.</summary>
    public static T Wrap<T>(string normalized, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Translate(normalized, ex);
        }
    }

    public static FileXferException Translate(string normalized, Exception exception) => exception switch
    {
        FileNotFoundException or DirectoryNotFoundException => NotFound(normalized),
        UnauthorizedAccessException => new(ErrorCode.AccessDenied, $"permission denied on '{RemotePath.Escape(normalized)}'", exception),
        IOException io when DiskFull.Is(io) => new(ErrorCode.InsufficientStorage, "no space left on the server's storage", exception),
        _ => new(ErrorCode.Internal, $"storage error on '{RemotePath.Escape(normalized)}': {exception.Message}", exception),
    };

    /// <summary>A file cannot be written at <paramref name="normalized"/>: a directory is there.</summary>
    public static FileXferException IsADirectory(string normalized) =>
        new(ErrorCode.IsADirectory, $"'{RemotePath.Escape(normalized)}' is a directory");

    public static FileXferException LeadsOutside(string normalized) =>
        new(ErrorCode.AccessDenied, $"'{RemotePath.Escape(normalized)}' leads outside the root through a symbolic link");

    /// <summary>
    /// <paramref name="normalized"/> is, or goes through, the symbolic link <paramref name="link"/> (a remote path, a
    /// prefix of it), whose target does not exist and would be inside the root: not followed, and said so rather than
    /// "leads outside", for an operator looking for a missing file. Names nothing but the client's own path.
    /// </summary>
    public static FileXferException DanglingLink(string normalized, string link) =>
        new(ErrorCode.AccessDenied, link.Length == normalized.Length
            ? $"'{RemotePath.Escape(normalized)}' is a symbolic link whose target does not exist"
            : $"'{RemotePath.Escape(normalized)}' goes through '{RemotePath.Escape(link)}', a symbolic link whose target does not exist");

    public static FileXferException NotFound(string normalized) =>
        new(ErrorCode.NotFound, $"'{RemotePath.Escape(normalized)}' not found");
}
