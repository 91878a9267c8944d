namespace FileXfer.Protocol.Tests;

/// <summary>Random bytes with a frame-like header, so the decoder's field parser sees them.</summary>
public sealed record FrameShapedBytes(byte[] Bytes)
{
    /// <inheritdoc />
    public override string ToString() => Convert.ToHexString(Bytes);
}
