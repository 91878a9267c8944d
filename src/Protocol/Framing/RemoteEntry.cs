namespace FileXfer.Protocol.Framing;

/// <summary>What the server says about one path: in a stat answer, or one entry of a listing.</summary>
/// <param name="Name">The path (stat) or the name inside the listed directory (list).</param>
/// <param name="Kind">File, directory or other.</param>
/// <param name="Size">The size in bytes; 0 for directories.</param>
/// <param name="ModifiedUtc">The last modification time.</param>
/// <param name="Mode">The Unix permission bits, when the server has them.</param>
public sealed record RemoteEntry(string Name, EntryKind Kind, long Size, DateTimeOffset ModifiedUtc, int? Mode);
