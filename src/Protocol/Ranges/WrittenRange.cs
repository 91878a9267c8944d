namespace FileXfer.Protocol.Ranges;

/// <summary>
/// One range of a file whose ranges are written concurrently, as its <see cref="WrittenPrefixHasher"/> knows it: how
/// many bytes from its start are written. Whoever writes the range reports each write here.
/// </summary>
public sealed class WrittenRange
{
    private readonly WrittenPrefixHasher _owner;

    internal WrittenRange(WrittenPrefixHasher owner, FileRange range)
    {
        _owner = owner;
        Range = range;
    }

    /// <summary>Where the range is in the file.</summary>
    public FileRange Range { get; }

    /// <summary>Bytes written from the range's start that the file keeps.</summary>
    public long Written => _owner.WrittenOf(this);

    /// <summary>Bytes written from the range's start, under the owner's gate.</summary>
    internal long WrittenLocked { get; set; }

    /// <summary>The range holds <paramref name="count"/> more bytes after those it held (written, and kept).</summary>
    public void Wrote(long count) => _owner.Wrote(this, count);

    /// <summary>
    /// The range keeps only its first <paramref name="held"/> bytes: the rest is written again. When the hash has read
    /// past that point, it starts over from byte 0.
    /// </summary>
    public void Rewind(long held) => _owner.Rewind(this, held);
}
