namespace FileXfer.Protocol.Framing;

/// <summary>How a field's value bytes are to be read.</summary>
public enum FieldKind
{
    /// <summary>A tag this version does not know; its value is skipped.</summary>
    Unknown,

    /// <summary>Exactly 8 bytes, big-endian.</summary>
    Integer,

    /// <summary>Strict UTF-8 with no NUL character.</summary>
    String,

    /// <summary>Raw bytes.</summary>
    Bytes,
}
