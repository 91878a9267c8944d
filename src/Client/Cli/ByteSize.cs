using System.Globalization;

namespace FileXfer.Client.Cli;

/// <summary>Formats byte counts for people: <c>512 B</c>, <c>1.5 MiB</c>.</summary>
internal static class ByteSize
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    public static string Format(double bytes)
    {
        int unit = 0;
        while (bytes >= 1024 && unit < Units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes:F0} {Units[unit]}")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes:F1} {Units[unit]}");
    }
}
