namespace FileXfer.Client;

/// <summary>
/// What a ranged download (<see cref="ParallelTransfer.DownloadFileAsync"/>) holds of each range, kept across the
/// attempts of one command so that a retry offers each range's received bytes again (the server proves them by their
/// hash). It lives in memory: a later command starts the ranges over.
/// </summary>
public sealed class RangedDownloadState
{
    private readonly object _gate = new();
    private string? _temp;
    private long _size;
    private long[] _held = [];

    /// <summary>The bytes held of each range of <paramref name="ranges"/> in <paramref name="temp"/>; zeros for another file or layout.</summary>
    internal long[] Begin(string temp, long size, IReadOnlyList<FileRange> ranges)
    {
        lock (_gate)
        {
            if (_temp != temp || _size != size || _held.Length != ranges.Count)
            {
                (_temp, _size, _held) = (temp, size, new long[ranges.Count]);
            }

            return [.. _held];
        }
    }

    /// <summary>Range <paramref name="index"/> holds its first <paramref name="bytes"/> bytes.</summary>
    internal void Hold(int index, long bytes)
    {
        lock (_gate)
        {
            if (index < _held.Length)
            {
                _held[index] = bytes;
            }
        }
    }

    /// <summary>Forgets every range: the file was saved, or what it held cannot be trusted.</summary>
    internal void Reset()
    {
        lock (_gate)
        {
            _temp = null;
            _held = [];
        }
    }
}
