namespace FileXfer.Protocol.Framing;

/// <summary>A range of a file: <see cref="Length"/> bytes from <see cref="Offset"/>.</summary>
/// <param name="Offset">Where the range starts.</param>
/// <param name="Length">How many bytes it has.</param>
public readonly record struct FileRange(long Offset, long Length)
{
    /// <summary>The offset just past the range.</summary>
    public long End => Offset + Length;

    /// <summary>True when the range has at least one byte and ends within a file of <paramref name="size"/> bytes.</summary>
    public bool FitsIn(long size) => Length > 0 && Offset >= 0 && Offset <= size && Length <= size - Offset;

    /// <summary>True when the two ranges share a byte.</summary>
    public bool Overlaps(FileRange other) => Offset < other.End && other.Offset < End;

    /// <summary>
    /// <paramref name="size"/> bytes cut into <paramref name="count"/> ranges of nearly equal length, in order (fewer
    /// when there are fewer bytes than ranges; none for an empty file).
    /// </summary>
    public static IReadOnlyList<FileRange> Split(long size, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        int n = (int)Math.Min(count, size);
        var ranges = new FileRange[n];
        long offset = 0;
        for (int i = 0; i < n; i++)
        {
            long length = (size - offset) / (n - i);
            ranges[i] = new FileRange(offset, length);
            offset += length;
        }

        return ranges;
    }

    /// <summary>
    /// <paramref name="size"/> bytes cut into ranges for <paramref name="streams"/> connections that take them in order
    /// from one queue, each connection the next range as soon as it finished its last (guided self-scheduling): each
    /// range is a 2 × <paramref name="streams"/>-th of what is left after the ones before it, in whole MiB, and never
    /// below <paramref name="minimum"/> (the last takes what is left when less than <paramref name="minimum"/> would
    /// remain after it). Early ranges are long, so a connection makes few requests; the last ones are short, so the
    /// connections finish near each other whatever each one's speed. The cut depends only on the three numbers, so a
    /// retry cuts the same ranges and finds what the server holds of each.
    /// </summary>
    public static IReadOnlyList<FileRange> Schedule(long size, int streams, long minimum)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfLessThan(streams, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minimum, 1);
        const long Unit = 1024 * 1024;
        var ranges = new List<FileRange>();
        long offset = 0;
        while (offset < size)
        {
            long remaining = size - offset;
            long share = remaining / (2L * streams);
            long length = Math.Max(minimum, share >= Unit ? share / Unit * Unit : share);
            if (remaining - length < minimum)
            {
                length = remaining;
            }

            ranges.Add(new FileRange(offset, length));
            offset += length;
        }

        return ranges;
    }

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"[{Offset}, {End})");
}
