namespace FileXfer.Protocol.Tests;

/// <summary>A valid encoded frame with the byte at <see cref="Position"/> to be replaced by <see cref="Value"/>.</summary>
public sealed record MutatedFrame(byte[] Original, int Position, byte Value)
{
    /// <summary>A copy of the frame with the one byte replaced.</summary>
    public byte[] Apply()
    {
        var bytes = (byte[])Original.Clone();
        bytes[Position] = Value;
        return bytes;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Convert.ToHexString(Original)} with byte {Position} set to 0x{Value:X2}";
}
