namespace FileXfer.Server.Storage.Local;

/// <summary>
/// The checks a root and the server's own directories in it must pass before anything is served: only the server's
/// user may be able to change what clients store and fetch.
/// </summary>
internal static class RootSafety
{
    /// <summary>
    /// Refuses a directory that users other than its owner can write: in the root they could plant or swap files
    /// and links under the names clients store and fetch.
    /// </summary>
    /// <exception cref="UnsafeDirectoryException">The directory is writable by group or others.</exception>
    public static void CheckNotWritableByOthers(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(directory);
        if ((mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new UnsafeDirectoryException(
                $"'{directory}' is writable by other users (mode {Convert.ToString((int)mode & 0xFFF, 8).PadLeft(4, '0')}); fix with: chmod go-w '{directory}'");
        }
    }

    /// <summary>
    /// Refuses a root that another user owns: its owner can write it whatever its mode, and so plant or swap the
    /// files that clients store and fetch.
    /// </summary>
    /// <exception cref="UnsafeDirectoryException">The directory belongs to another user.</exception>
    public static void CheckOwnedByServer(string directory)
    {
        if (Posix.OwnerOf(directory) is { } owner && Posix.EffectiveUserId() is { } user && owner != user)
        {
            throw new UnsafeDirectoryException(
                $"'{directory}' belongs to user {owner}, not to user {user} who runs the server, and its owner can change what it holds; fix with: chown {user} '{directory}'");
        }
    }

    /// <summary>
    /// Creates a directory of the server's own (mode 0700) when it is missing, and refuses an existing one that is a
    /// link, that another user owns, or that others can write: whoever controls the staging area controls what
    /// is committed under the real names.
    /// </summary>
    /// <exception cref="UnsafeDirectoryException">The directory is not the server's alone.</exception>
    public static void CreatePrivateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (new DirectoryInfo(directory).LinkTarget is not null)
        {
            throw new UnsafeDirectoryException($"'{directory}' is a symbolic link; the server's staging area must be a real directory (remove the link)");
        }

        if (Posix.OwnerOf(directory) is { } owner && Posix.EffectiveUserId() is { } user && owner != user)
        {
            throw new UnsafeDirectoryException(
                $"'{directory}' belongs to user {owner}, not to user {user} who runs the server; fix with: chown -R {user} '{directory}'");
        }

        CheckNotWritableByOthers(directory);
    }
}
