using FileXfer.Protocol.Framing;

namespace FileXfer.Protocol.Tests;

/// <summary>A randomly generated frame for the property tests: any type byte, any id, valid fields.</summary>
public sealed record FrameCase(byte Type, uint RequestId, IReadOnlyList<Field> Fields)
{
    /// <summary>The frame these parts make.</summary>
    public Frame ToFrame() => new((MessageType)Type, RequestId, Fields);

    /// <summary>The encoded frame, shown in hex when a property fails.</summary>
    public override string ToString() => Convert.ToHexString(FrameCodec.ToArray(ToFrame()));
}
