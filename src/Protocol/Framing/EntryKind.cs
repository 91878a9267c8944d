namespace FileXfer.Protocol.Framing;

/// <summary>What a remote path names; sent in the <see cref="FieldTag.Kind"/> field.</summary>
public enum EntryKind
{
    /// <summary>A regular file.</summary>
    File = 1,

    /// <summary>A directory.</summary>
    Directory = 2,

    /// <summary>Anything else (device, socket, link that is not followed).</summary>
    Other = 3,
}
