namespace FileXfer.Protocol.Framing;

/// <summary>
/// Builds and reads the frames of each message type, so that the fields each one carries are written down
/// in one place (and in docs/PROTOCOL.md).
/// </summary>
/// <remarks>
/// One type in parts, by family: the handshake (<c>Messages.Handshake.cs</c>), the requests (<c>.Requests.cs</c>),
/// the frames around a body (<c>.Bodies.cs</c>), directory times (<c>.DirectoryTimes.cs</c>), the Working frame of long work
/// (<c>.Working.cs</c>), entries and listings
/// (<c>.Entries.cs</c>), and the Ok and Error that end a request (<c>.OkAndError.cs</c>). A file in ranges has its
/// own type, <see cref="RangeMessages"/>.
/// </remarks>
public static partial class Messages
{
    /// <summary>The optional features this version implements.</summary>
    public const Capabilities Implemented = Capabilities.ChunkedBody | Capabilities.Pipelining | Capabilities.Trees | Capabilities.Resume | Capabilities.Authentication | Capabilities.ListOmissions | Capabilities.ParallelStreams | Capabilities.Compression | Capabilities.EarlyAuthentication | Capabilities.EagerRanges | Capabilities.PipelinedAuthentication | Capabilities.DirectoryTimes | Capabilities.WorkingBeats;
}
