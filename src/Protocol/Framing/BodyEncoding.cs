namespace FileXfer.Protocol.Framing;

/// <summary>How a body is encoded on the wire, in the <see cref="FieldTag.BodyEncoding"/> field.</summary>
public enum BodyEncoding : ulong
{
    /// <summary>The original bytes as they are (the field is then left out).</summary>
    Plain = 0,

    /// <summary>
    /// Blocks of at most 1 MiB of original bytes, each stored or one zstd frame (<see cref="Transfer.BlockCodec"/>).
    /// Needs <see cref="Capabilities.Compression"/>.
    /// </summary>
    ZstdBlocks = 1,
}
