namespace FileXfer.Protocol.Framing;

/// <summary>The requests a client sends: put, get, the path-only ones (stat, list, delete), mkdir and hash.</summary>
public static partial class Messages
{
    /// <summary>Store <paramref name="size"/> bytes at <paramref name="path"/>: a fixed-length body sent after Ready.</summary>
    public static Frame Put(uint requestId, string path, long size, string hashAlgorithm, DateTimeOffset? modified, int? mode) =>
        Put(requestId, path, size, hashAlgorithm, modified, mode, PutFlags.None);

    /// <summary>Store a file at <paramref name="path"/>; <paramref name="size"/> may be null only for a chunked body.</summary>
    public static Frame Put(uint requestId, string path, long? size, string hashAlgorithm, DateTimeOffset? modified, int? mode, PutFlags flags, byte[]? resumeKey = null)
    {
        var fields = new List<Field> { Field.String(FieldTag.Path, path) };
        if (size is { } length)
        {
            fields.Add(Field.Integer(FieldTag.Size, length));
        }

        fields.Add(Field.String(FieldTag.HashAlgorithm, hashAlgorithm));

        if (flags != PutFlags.None)
        {
            fields.Add(Field.Unsigned(FieldTag.Flags, (ulong)flags));
        }

        if (resumeKey is not null)
        {
            fields.Add(Field.Bytes(FieldTag.ResumeKey, resumeKey));
        }
        AddTimeAndMode(fields, modified, mode);
        return new Frame(MessageType.Put, requestId, fields);
    }

    /// <summary>Fetch the file at <paramref name="path"/>, hashed with <paramref name="hashAlgorithm"/>.</summary>
    public static Frame Get(uint requestId, string path, string hashAlgorithm) =>
        new(MessageType.Get, requestId, Field.String(FieldTag.Path, path), Field.String(FieldTag.HashAlgorithm, hashAlgorithm));

    /// <summary>
    /// Fetch the file at <paramref name="path"/>, resuming after the <paramref name="offset"/> bytes the client holds
    /// if the server's first bytes hash to <paramref name="prefixHash"/>; Data's Offset says where the body starts.
    /// </summary>
    public static Frame Get(uint requestId, string path, string hashAlgorithm, long offset, byte[] prefixHash) =>
        new(MessageType.Get, requestId,
            Field.String(FieldTag.Path, path),
            Field.String(FieldTag.HashAlgorithm, hashAlgorithm),
            Field.Integer(FieldTag.Offset, offset),
            Field.Bytes(FieldTag.HashValue, prefixHash));

    /// <summary>A request that names only a path: stat, list or delete.</summary>
    public static Frame PathRequest(MessageType type, uint requestId, string path) =>
        new(type, requestId, Field.String(FieldTag.Path, path));

    /// <summary>List a directory, or with <see cref="ListFlags.Recursive"/> the whole tree below it.</summary>
    public static Frame List(uint requestId, string path, ListFlags flags)
    {
        var fields = new List<Field> { Field.String(FieldTag.Path, path) };
        if (flags != ListFlags.None)
        {
            fields.Add(Field.Unsigned(FieldTag.Flags, (ulong)flags));
        }

        return new Frame(MessageType.List, requestId, fields);
    }

    /// <summary>Create a directory with its parents, or set the time and mode of an existing one.</summary>
    public static Frame MakeDirectory(uint requestId, string path, DateTimeOffset? modified, int? mode)
    {
        var fields = new List<Field> { Field.String(FieldTag.Path, path) };
        AddTimeAndMode(fields, modified, mode);
        return new Frame(MessageType.MakeDirectory, requestId, fields);
    }

    /// <summary>Hash the stored file at <paramref name="path"/>.</summary>
    public static Frame Hash(uint requestId, string path, string hashAlgorithm) =>
        new(MessageType.Hash, requestId, Field.String(FieldTag.Path, path), Field.String(FieldTag.HashAlgorithm, hashAlgorithm));

    /// <summary>The optional time and permission bits a put or a mkdir gives what it makes.</summary>
    private static void AddTimeAndMode(List<Field> fields, DateTimeOffset? modified, int? mode)
    {
        if (modified is { } time)
        {
            fields.Add(Field.Integer(FieldTag.MTime, UnixTime.ToNanoseconds(time)));
        }

        if (mode is { } bits)
        {
            fields.Add(Field.Integer(FieldTag.Mode, bits));
        }
    }
}
