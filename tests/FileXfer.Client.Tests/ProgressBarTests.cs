using FileXfer.Client.Cli;
using Microsoft.Extensions.Time.Testing;

namespace FileXfer.Client.Tests;

/// <summary>The lines the progress bar draws on a terminal, its rate and time left measured on a fake clock.</summary>
public sealed class ProgressBarTests : IDisposable
{
    private const long MiB = 1024 * 1024;

    private readonly FakeTimeProvider _time = new();
    private readonly StringWriter _terminal = new() { NewLine = "\n" };

    [Fact]
    public void An_unknown_size_shows_the_bytes_and_the_rate_then_how_long_it_took()
    {
        var bar = new ProgressBar(Terminal(columns: 80), quiet: false, "backups/dir.tar", total: null, _time);

        _time.Advance(TimeSpan.FromSeconds(2));
        bar.Advance(3 * MiB);
        Assert.Equal("backups/dir.tar  3.0 MiB  1.5 MiB/s", LastLine());

        _time.Advance(TimeSpan.FromSeconds(2));
        bar.Advance(1 * MiB);
        bar.Complete();
        Assert.Equal("backups/dir.tar  4.0 MiB  1.0 MiB/s  in 0:04", LastLine());
        Assert.EndsWith("\n", _terminal.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_known_size_shows_the_bar_the_rate_and_the_time_left()
    {
        var bar = new ProgressBar(Terminal(columns: 100), quiet: false, "images/big.iso", 10 * MiB, _time);

        _time.Advance(TimeSpan.FromSeconds(2));
        bar.Advance(4 * MiB);
        Assert.Equal("images/big.iso [#########...............]  40%  4.0 MiB / 10.0 MiB  2.0 MiB/s  ETA 0:03", LastLine());

        _time.Advance(TimeSpan.FromSeconds(3));
        bar.Advance(6 * MiB);
        bar.Complete();
        Assert.Equal("images/big.iso [########################] 100%  10.0 MiB / 10.0 MiB  2.0 MiB/s  in 0:05", LastLine());
    }

    [Fact]
    public void Time_left_counts_hours_and_is_unknown_before_anything_arrived()
    {
        var bar = new ProgressBar(Terminal(columns: 100), quiet: false, "disk.img", 8000 * MiB, _time);

        _time.Advance(TimeSpan.FromSeconds(1));
        bar.Advance(0);
        Assert.EndsWith("0 B / 7.8 GiB  0 B/s  ETA --:--", LastLine(), StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(1));
        bar.Advance(1 * MiB);
        Assert.EndsWith("1.0 MiB / 7.8 GiB  512.0 KiB/s  ETA 4:26:38", LastLine(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_longer_than_the_terminal_is_cut_in_its_middle_and_no_line_reaches_the_last_column()
    {
        const string Name = "photos/2024/holiday-in-the-mountains/day-three/IMG_20240817_153012.jpg";
        var bar = new ProgressBar(Terminal(columns: 100), quiet: false, Name, 10 * MiB, _time);

        for (int second = 1; second <= 5; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            bar.Advance(2 * MiB);
        }

        bar.Complete();
        Assert.Equal("photos/2024/h…7_153012.jpg [########################] 100%  10.0 MiB / 10.0 MiB  2.0 MiB/s  in 0:05", LastLine());
        Assert.All(Lines(), line => Assert.InRange(DisplayWidth.Of(line), 1, 99));
    }

    [Fact]
    public void On_a_narrow_terminal_the_bar_gives_way_to_the_name_and_the_numbers()
    {
        var bar = new ProgressBar(Terminal(columns: 60), quiet: false, "photos/2024/holiday/IMG_20240817_153012.jpg", 10 * MiB, _time);

        _time.Advance(TimeSpan.FromSeconds(2));
        bar.Advance(4 * MiB);

        Assert.Equal("photos…12.jpg  40%  4.0 MiB / 10.0 MiB  2.0 MiB/s  ETA 0:03", LastLine());
    }

    [Fact]
    public void On_an_80_column_terminal_a_short_name_keeps_a_narrower_bar()
    {
        var bar = new ProgressBar(Terminal(columns: 80), quiet: false, "huge.bin", 3L * 1024 * MiB, _time);

        _time.Advance(TimeSpan.FromSeconds(2));
        bar.Advance(288 * MiB);

        Assert.Equal("huge.bin [#..................]   9%  288.0 MiB / 3.0 GiB  144.0 MiB/s  ETA 0:20", LastLine());
    }

    [Fact]
    public void Wide_characters_count_two_columns()
    {
        const string Name = "写真/二〇二四年/山の休日/三日目/夕焼けの写真です.jpg";
        var bar = new ProgressBar(Terminal(columns: 60), quiet: false, Name, total: null, _time);

        _time.Advance(TimeSpan.FromSeconds(2));
        bar.Advance(4 * MiB);

        var line = LastLine();
        Assert.InRange(DisplayWidth.Of(line), 50, 59);
        Assert.StartsWith("写真/二〇二四年/", line, StringComparison.Ordinal);
        Assert.EndsWith("です.jpg  4.0 MiB  2.0 MiB/s", line, StringComparison.Ordinal);
        Assert.Contains('…', line);
    }

    [Fact]
    public void A_shorter_line_covers_what_was_left_of_a_longer_one_and_clear_erases_it()
    {
        var bar = new ProgressBar(Terminal(columns: 80), quiet: false, "a.bin", total: null, _time);
        _time.Advance(TimeSpan.FromSeconds(1));
        bar.Advance(1000 * MiB);
        int longer = _terminal.ToString().Length - 1;
        _time.Advance(TimeSpan.FromSeconds(999));
        bar.Advance(0);

        const string Shorter = "a.bin  1000.0 MiB  1.0 MiB/s";
        Assert.Equal("\r" + Shorter.PadRight(longer), _terminal.ToString()[(longer + 1)..]);

        bar.Clear();
        Assert.EndsWith("\r" + new string(' ', Shorter.Length) + "\r", _terminal.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => _terminal.Dispose();

    private CliConsole Terminal(int columns) =>
        new(TextWriter.Null, _terminal, IsErrorTerminal: true, _ => null) { ErrorTerminalColumns = () => columns };

    /// <summary>Every line drawn: the text between carriage returns and newlines, without the spaces that cover older ones.</summary>
    private string[] Lines() =>
        [.. _terminal.ToString().Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd(' ')).Where(l => l.Length > 0)];

    private string LastLine() => Lines()[^1];
}
