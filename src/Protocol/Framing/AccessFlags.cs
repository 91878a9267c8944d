namespace FileXfer.Protocol.Framing;

/// <summary>
/// What an authenticated token may do, carried in the <see cref="FieldTag.Flags"/> field of the Ok that answers
/// <see cref="MessageType.Authenticate"/>. No bit set means read-only.
/// </summary>
[Flags]
public enum AccessFlags : ulong
{
    /// <summary>Read-only: get, stat, list and hash.</summary>
    None = 0,

    /// <summary>The token may also put, delete and make directories.</summary>
    Write = 1 << 0,
}
