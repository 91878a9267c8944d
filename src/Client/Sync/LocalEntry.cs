using FileXfer.Protocol.Framing;

namespace FileXfer.Client.Sync;

/// <summary>A file or directory of a local tree.</summary>
/// <param name="RelativePath">The path below the tree's top, <c>/</c>-separated.</param>
/// <param name="FullPath">The local path.</param>
/// <param name="Kind">File or directory.</param>
/// <param name="Size">The size of a file.</param>
/// <param name="ModifiedUtc">The modification time.</param>
/// <param name="Mode">The Unix permission bits, where the system has them.</param>
public sealed record LocalEntry(string RelativePath, string FullPath, EntryKind Kind, long Size, DateTimeOffset ModifiedUtc, int? Mode)
{
    /// <summary>The same entry in the form the protocol describes remote entries.</summary>
    public RemoteEntry ToRemote(string remotePath) => new(remotePath, Kind, Size, ModifiedUtc, Mode);
}
