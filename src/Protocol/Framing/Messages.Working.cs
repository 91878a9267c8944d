namespace FileXfer.Protocol.Framing;

/// <summary>
/// Long work before an answer (<see cref="Capabilities.WorkingBeats"/>): the Working frame a server sends while it
/// still works on a request, and its reading.
/// </summary>
public static partial class Messages
{
    /// <summary>
    /// Server → client: request <paramref name="requestId"/> is still being worked on, <paramref name="done"/> bytes of
    /// it done so far (<see cref="FieldTag.Offset"/>). Only to a client that announced <see cref="Capabilities.WorkingBeats"/>.
    /// </summary>
    public static Frame Working(uint requestId, long done) =>
        new(MessageType.Working, requestId, Field.Integer(FieldTag.Offset, done));

    /// <summary>
    /// How many bytes a <see cref="MessageType.Working"/> frame says are done: its Offset, 0 … <see cref="ProtocolLimits.MaxBodySize"/>
    /// (an absent one reads as 0: the field only reports progress); a larger value is a protocol violation, as for any size.
    /// </summary>
    public static long ReadWorkingDone(Frame working)
    {
        ArgumentNullException.ThrowIfNull(working);
        return working.Type == MessageType.Working
            ? working.GetSizeOrNull(FieldTag.Offset) ?? 0
            : throw new ProtocolViolationException($"expected Working, got {working.Type}");
    }
}
