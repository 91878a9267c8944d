namespace FileXfer.Protocol.Framing;

/// <summary>Option bits of a <see cref="MessageType.List"/>, in its <see cref="FieldTag.Flags"/> field.</summary>
[Flags]
public enum ListFlags : ulong
{
    /// <summary>Only the entries of the directory itself, each named by <see cref="FieldTag.Name"/>.</summary>
    None = 0,

    /// <summary>
    /// The whole tree below the directory, parents before children, each entry named by its
    /// <see cref="FieldTag.Path"/> relative to the listed directory.
    /// </summary>
    Recursive = 1 << 0,
}
