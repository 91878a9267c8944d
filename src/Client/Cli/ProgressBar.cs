using System.Globalization;

namespace FileXfer.Client.Cli;

/// <summary>
/// A one-line progress bar on stderr, redrawn at most ten times a second. Drawn only when stderr is a terminal and
/// --quiet was not given; otherwise every call does nothing. A known size shows a bar, the percentage, the bytes,
/// the rate and the time left; an unknown size (standard input) the bytes and the rate; the last line says how long
/// it took. The line never reaches the terminal's last column (the name is shortened in its middle, the bar dropped
/// on a narrow terminal), so that each redraw, a carriage return, lands on the same line instead of below it.
/// </summary>
internal sealed class ProgressBar
{
    private const int BarWidth = 24;
    private const int DefaultColumns = 80;
    private const int ShortestName = 12;
    private const int ShortestBar = 10;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly Lock _lock = new();
    private readonly TextWriter? _writer;
    private readonly Func<int?> _columns;
    private readonly string _label;
    private long? _total;
    private readonly TimeProvider _time;
    private readonly long _started;
    private long _done;
    private long _lastDrawn;
    private int _lastColumns;

    /// <param name="console">Where to draw, and the terminal's width.</param>
    /// <param name="quiet">--quiet: draw nothing.</param>
    /// <param name="label">The name shown.</param>
    /// <param name="total">The bytes to transfer, or null when unknown.</param>
    /// <param name="time">The clock of the rate and the time left.</param>
    public ProgressBar(CliConsole console, bool quiet, string label, long? total, TimeProvider? time = null)
    {
        _writer = IsShown(console, quiet) ? console.Error : null;
        _columns = console.ErrorTerminalColumns;
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
                Draw(complete: false);
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

        lock (_lock)
        {
            Draw(complete: true);
            _writer.WriteLine();
            _lastColumns = 0;
        }
    }

    /// <summary>Erases the bar, leaving the line free for an error message.</summary>
    public void Clear()
    {
        if (_writer is null)
        {
            return;
        }

        lock (_lock)
        {
            if (_lastColumns == 0)
            {
                return;
            }

            _writer.Write("\r" + new string(' ', Math.Min(_lastColumns, (_columns() ?? DefaultColumns) - 1)) + "\r");
            _writer.Flush();
            _lastColumns = 0;
        }
    }

    /// <summary>
    /// The line for <paramref name="done"/> bytes of <paramref name="total"/> (null: unknown) after
    /// <paramref name="elapsed"/>, at most <paramref name="columns"/> - 1 columns wide.
    /// </summary>
    internal static string Render(string label, long done, long? total, TimeSpan elapsed, bool complete, int columns)
    {
        double? rate = elapsed > TimeSpan.Zero ? done / elapsed.TotalSeconds : null;
        var rateText = rate is { } perSecond ? $"{ByteSize.Format(perSecond)}/s" : "--/s";
        var took = complete ? $"  in {Clock(elapsed)}" : string.Empty;
        double? fraction = total is { } size ? (size > 0 ? Math.Min(1.0, (double)done / size) : 1.0) : null;
        var status = total is { } known
            ? string.Create(CultureInfo.InvariantCulture, $" {fraction * 100,3:F0}%  {ByteSize.Format(done)} / {ByteSize.Format(known)}  {rateText}{(complete ? took : $"  ETA {TimeLeft(known - done, rate)}")}")
            : $"  {ByteSize.Format(done)}  {rateText}{took}";

        // What matters most keeps its room: the numbers, then the name (up to ShortestName columns), then the bar.
        int room = Math.Max(columns, 1) - 1;
        int name = DisplayWidth.Of(label);
        int barWidth = Math.Min(BarWidth, room - status.Length - Math.Min(name, ShortestName) - " []".Length);
        var bar = fraction is { } part && barWidth >= ShortestBar
            ? $" [{new string('#', (int)(part * barWidth))}{new string('.', barWidth - (int)(part * barWidth))}]"
            : string.Empty;
        var line = DisplayWidth.Shorten(label, Math.Max(room - bar.Length - status.Length, ShortestName)) + bar + status;
        return DisplayWidth.Of(line) <= room ? line : DisplayWidth.Shorten(line, room);
    }

    private static string TimeLeft(long remaining, double? rate) =>
        rate is > 0 && remaining / rate.Value < TimeSpan.FromHours(100).TotalSeconds
            ? Clock(TimeSpan.FromSeconds(Math.Ceiling(remaining / rate.Value)))
            : "--:--";

    /// <summary><c>m:ss</c>, or <c>h:mm:ss</c> from an hour on.</summary>
    private static string Clock(TimeSpan time) => time.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)time.TotalHours}:{time.Minutes:D2}:{time.Seconds:D2}")
        : string.Create(CultureInfo.InvariantCulture, $"{time.Minutes}:{time.Seconds:D2}");

    private void Draw(bool complete)
    {
        int width = _columns() ?? DefaultColumns;
        var line = Render(_label, _done, _total, _time.GetElapsedTime(_started), complete, width);
        int columns = DisplayWidth.Of(line);
        // Spaces over what is left of a longer line drawn before (within the line, should the terminal have narrowed).
        _writer!.Write("\r" + line + new string(' ', Math.Max(Math.Min(_lastColumns, width - 1) - columns, 0)));
        _lastColumns = columns;
        _writer.Flush();
    }
}
