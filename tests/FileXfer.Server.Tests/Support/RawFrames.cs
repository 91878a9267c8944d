using System.Buffers.Binary;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;

namespace FileXfer.Server.Tests.Support;

/// <summary>Frame bytes built by hand, for the malformed frames the codec would refuse to write.</summary>
public static class RawFrames
{
    /// <summary>A frame header with any length, type and flags, and no fields.</summary>
    public static byte[] Header(uint length, byte type, byte flags = 0, uint requestId = 0)
    {
        var bytes = new byte[ProtocolLimits.LengthPrefixBytes + ProtocolLimits.FrameFixedBytes];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, length);
        bytes[4] = type;
        bytes[5] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(6), requestId);
        return bytes;
    }

    /// <summary>A valid frame's bytes.</summary>
    public static byte[] Of(Frame frame) => FrameCodec.ToArray(frame);
}
