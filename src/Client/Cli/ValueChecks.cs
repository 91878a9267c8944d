using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace FileXfer.Client.Cli;

/// <summary>
/// Checks of option and argument values that the parser runs, so that a value out of range is a usage error (exit 2,
/// one line, before anything connects) and never reaches the code as an exception: <c>--timeout 99999999999</c> would
/// overflow a timer, an empty LOCAL is no path at all.
/// </summary>
internal static class ValueChecks
{
    /// <summary>The longest timeout a timer can run (about 11.5 days, within its 2^31 - 1 milliseconds).</summary>
    public const double MaxSeconds = 1_000_000;

    /// <summary>Accepts a positive number of seconds up to <see cref="MaxSeconds"/> (no NaN, no infinity).</summary>
    public static Option<double> Seconds(Option<double> option) =>
        Where(option, NumberStyles.Float, value => value is > 0 and <= MaxSeconds, string.Create(CultureInfo.InvariantCulture, $"takes a number of seconds greater than 0 and at most {MaxSeconds:F0}"));

    /// <summary>Accepts a whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Option<int> Between(Option<int> option, int min, int max) =>
        Where(option, NumberStyles.Integer, value => value >= min && value <= max, $"takes a number from {min} to {max}");

    /// <summary>Accepts a whole number of at least <paramref name="min"/>.</summary>
    public static Option<int> AtLeast(Option<int> option, int min) =>
        Where(option, NumberStyles.Integer, value => value >= min, $"takes a number of at least {min}");

    /// <summary>Refuses an empty local path, which names no file.</summary>
    public static Argument<T> NotEmpty<T>(Argument<T> argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        argument.Validators.Add(result => RefuseEmpty(result, argument.Name));
        return argument;
    }

    /// <summary>Refuses an empty file name given to an option.</summary>
    public static Option<T> NotEmpty<T>(Option<T> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result => RefuseEmpty(result, option.Name));
        return option;
    }

    private static void RefuseEmpty(SymbolResult result, string name)
    {
        if (result.Tokens.Any(token => token.Value.Length == 0))
        {
            result.AddError($"{name} cannot be empty");
        }
    }

    /// <summary>Parses the option's value (invariant culture: '1,5' is no number) and accepts it only when <paramref name="valid"/>; else one error naming the rule.</summary>
    private static Option<T> Where<T>(Option<T> option, NumberStyles styles, Func<T, bool> valid, string rule)
        where T : INumberBase<T>
    {
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
            if (T.TryParse(text, styles, CultureInfo.InvariantCulture, out var value) && valid(value))
            {
                return value;
            }

            result.AddError($"{option.Name} {rule}, not '{text}'");
            return default;
        };
        return option;
    }
}
