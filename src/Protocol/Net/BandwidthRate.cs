using System.Globalization;

namespace FileXfer.Protocol.Net;

/// <summary>
/// Reads a <c>--bwlimit</c> rate as rsync does: a number of KiB per second, or with a suffix <c>K</c>, <c>M</c> or
/// <c>G</c> (KiB, MiB, GiB per second; <c>KiB</c>, <c>MB</c> and lower case are read the same), or <c>B</c> for bytes:
/// <c>500</c>, <c>1.5M</c>, <c>100KiB</c>, <c>64000B</c>.
/// </summary>
public static class BandwidthRate
{
    /// <summary>The rate in bytes per second (at least 1), or false with the reason.</summary>
    public static bool TryParse(string? text, out long bytesPerSecond, out string? error)
    {
        bytesPerSecond = 0;
        var value = text?.Trim() ?? string.Empty;
        int end = value.Length;
        while (end > 0 && char.IsLetter(value[end - 1]))
        {
            end--;
        }

        long unit = value[end..].ToUpperInvariant() switch
        {
            "" or "K" or "KB" or "KIB" => 1024,
            "B" => 1,
            "M" or "MB" or "MIB" => 1024 * 1024,
            "G" or "GB" or "GIB" => 1024 * 1024 * 1024,
            _ => 0,
        };
        if (unit == 0 || !double.TryParse(value.AsSpan(0, end).Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number)
            || number * unit < 1 || number * unit > long.MaxValue / 2)
        {
            error = $"'{text}' is not a rate: a number of KiB per second, or with a suffix B, K, M or G (500, 1.5M, 64000B)";
            return false;
        }

        bytesPerSecond = (long)(number * unit);
        error = null;
        return true;
    }
}
