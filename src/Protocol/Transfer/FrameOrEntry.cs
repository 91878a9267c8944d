namespace FileXfer.Protocol.Transfer;

/// <summary>
/// What <see cref="ProtocolReader.ReadFrameOrEntryAsync"/> read: a listing's entry, decoded without a frame, or any
/// other frame.
/// </summary>
/// <param name="Frame">The frame, when it was not an entry.</param>
/// <param name="Entry">The entry, when the frame was an <see cref="MessageType.Entry"/>.</param>
/// <param name="NamedByName">Whether the entry was named by a Name field (a one-level listing) rather than a Path.</param>
public readonly record struct FrameOrEntry(Frame? Frame, RemoteEntry? Entry, bool NamedByName)
{
    /// <summary>The message type.</summary>
    public MessageType Type => Frame?.Type ?? MessageType.Entry;

    /// <summary>The request id the frame carries.</summary>
    public uint RequestId
    {
        get => Frame?.RequestId ?? _requestId;
        init => _requestId = value;
    }

    private readonly uint _requestId;
}
