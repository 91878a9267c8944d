using System.Globalization;

namespace FileXfer.Client.Cli;

/// <summary>
/// A one-line progress bar on stderr, redrawn at most ten times a second. Drawn only when stderr is a terminal
/// and --quiet was not given; otherwise every call does nothing.
/// </summary>
internal sealed class ProgressBar
{
    private const int Width = 24;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _lock = new();
    private readonly TextWriter? _writer;
    private readonly string _label;
    private long _total;
    private readonly TimeProvider _time;
    private readonly long _started;
    private long _done;
    private long _lastDrawn;
    private int _lastLength;

    public ProgressBar(CliConsole console, bool quiet, string label, long total, TimeProvider? time = null)
    {
        _writer = IsShown(console, quiet) ? console.Error : null;
        _label = label;
        _total = total;
        _time = time ?? TimeProvider.System;
        _started = _time.GetTimestamp();
        _lastDrawn = _started - (long)(RedrawInterval.TotalSeconds * _time.TimestampFrequency);
    }

    /// <summary>True when a bar would be drawn: stderr is a terminal and --quiet was not given.</summary>
    public static bool IsShown(CliConsole console, bool quiet) => console.IsErrorTerminal && !quiet;

    /// <summary>Adds transferred bytes; usable as the progress callback of the client.</summary>
    public void Advance(long bytes)
    {
        if (_writer is null)
        {
            return;
        }

        // Several connections may report at once.
        lock (_lock)
        {
            _done += bytes;
            long now = _time.GetTimestamp();
            if (_time.GetElapsedTime(_lastDrawn, now) >= RedrawInterval)
            {
                _lastDrawn = now;
                Draw(now);
            }
        }
    }

    /// <summary>Sets the total once more of it is known (a tree walk finds its files as it goes).</summary>
    public void SetTotal(long total)
    {
        lock (_lock)
        {
            _total = total;
        }
    }

    /// <summary>Draws the final state and ends the line.</summary>
    public void Complete()
    {
        if (_writer is null)
        {
            return;
        }

        Draw(_time.GetTimestamp());
        _writer.WriteLine();
    }

    /// <summary>Erases the bar, leaving the line free for an error message.</summary>
    public void Clear()
    {
        if (_writer is null || _lastLength == 0)
        {
            return;
        }

        _writer.Write("\r" + new string(' ', _lastLength) + "\r");
        _writer.Flush();
    }

    private void Draw(long now)
    {
        double seconds = Math.Max(_time.GetElapsedTime(_started, now).TotalSeconds, 1e-3);
        double fraction = _total > 0 ? Math.Min(1.0, (double)_done / _total) : 1.0;
        int filled = (int)(fraction * Width);
        var rate = _done / seconds;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"\r{_label} [{new string('#', filled)}{new string('.', Width - filled)}] {fraction * 100,3:F0}%  {ByteSize.Format(_done)} / {ByteSize.Format(_total)}  {ByteSize.Format(rate)}/s");
        _writer!.Write(line.PadRight(_lastLength));
        _lastLength = line.Length;
        _writer.Flush();
    }
}
