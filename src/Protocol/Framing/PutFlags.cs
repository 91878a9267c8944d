namespace FileXfer.Protocol.Framing;

/// <summary>Option bits of a <see cref="MessageType.Put"/>, in its <see cref="FieldTag.Flags"/> field.</summary>
[Flags]
public enum PutFlags : ulong
{
    /// <summary>A fixed-length body of <see cref="FieldTag.Size"/> bytes, sent after Ready.</summary>
    None = 0,

    /// <summary>
    /// The body is a sequence of chunks (<c>u32 length | bytes</c>) ended by a zero length, or abandoned by the
    /// abort marker. <see cref="FieldTag.Size"/> is then optional: when present, the body must have exactly that length.
    /// </summary>
    Chunked = 1 << 0,

    /// <summary>
    /// The body follows the Put at once; the server sends no Ready. A put refused before its body is read
    /// still has its body read and dropped, then the error is sent.
    /// </summary>
    NoWait = 1 << 1,

    /// <summary>
    /// The upload may resume a partial one with the same <see cref="FieldTag.ResumeKey"/>: Ready carries the
    /// bytes the server holds (Offset) and their hash (HashValue); the client answers <see cref="MessageType.ResumeFrom"/>
    /// with 0 or that Offset, then sends the rest as a fixed-length body. Not with <see cref="NoWait"/> or
    /// <see cref="Chunked"/>.
    /// </summary>
    Resume = 1 << 2,

    /// <summary>
    /// The body is one range of a file sent over several connections (<see cref="Capabilities.ParallelStreams"/>):
    /// the Put carries <see cref="FieldTag.TransferId"/>, <see cref="FieldTag.RangeOffset"/> and
    /// <see cref="FieldTag.RangeLength"/>, Size is the whole file's. The exchange is a resumable put's within the range
    /// (Ready with the range's held bytes and their hash, ResumeFrom, the rest of the range, BodyEnd with the range's
    /// hash); the Ok says the range counts, and <see cref="MessageType.Assemble"/> names the file. Alone, or with
    /// <see cref="NoWait"/> where <see cref="Capabilities.EagerRanges"/> was agreed: then no Ready, the whole range follows
    /// the Put at once (what the server held of it is overwritten), then BodyEnd.
    /// </summary>
    Range = 1 << 3,
}
