namespace FileXfer.Client.Sync;

/// <summary>One entry of a local directory, as a tree walk compares it with the other side.</summary>
/// <param name="Name">Its name in the directory.</param>
/// <param name="Kind">File or directory; <see cref="EntryKind.Other"/> for an entry that cannot take part (see <paramref name="Problem"/>).</param>
/// <param name="Size">The size of a file.</param>
/// <param name="ModifiedUtc">The modification time (of a link's target).</param>
/// <param name="Mode">The Unix permission bits, where the system has them.</param>
/// <param name="IsLink">True for a symbolic link (to a file: followed when sending; never written through).</param>
/// <param name="Problem">Why the entry cannot take part (a pipe, a dangling link, a name that cannot be stored), or null.</param>
public sealed record LocalEntry(string Name, EntryKind Kind, long Size, DateTimeOffset ModifiedUtc, int? Mode, bool IsLink = false, string? Problem = null)
{
    /// <summary>The same entry in the form the protocol describes remote entries, under <paramref name="remotePath"/>.</summary>
    public RemoteEntry ToRemote(string remotePath) => new(remotePath, Kind, Size, ModifiedUtc, Mode);
}
