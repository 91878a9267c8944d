using System.Collections;
using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;

namespace FileXfer.Server.Configuration;

/// <summary>
/// The server's settings from three places, each overriding the one before: the configuration file (<c>--config
/// FILE</c>, or <c>$FILEXFER_SERVER_CONFIG</c>), environment variables (<c>FILEXFER_SERVER_MAX_CONNECTIONS=200</c>),
/// and options on the command line. Every option of the server's command has a key, its long name without the
/// dashes, so a new option is configurable without a change here. The file and the environment are turned into
/// options put before the command line's own, after their values were checked here: each bad key or value is one
/// problem line naming where it was read.
/// </summary>
internal sealed class ServerConfiguration
{
    /// <summary>The prefix of the environment variables read.</summary>
    public const string EnvironmentPrefix = "FILEXFER_SERVER_";

    /// <summary>The environment variable naming the configuration file when <c>--config</c> is not given.</summary>
    public const string ConfigVariable = EnvironmentPrefix + "CONFIG";

    private readonly Dictionary<string, string> _sources = new(StringComparer.Ordinal);

    private ServerConfiguration(IReadOnlyList<string> arguments, IReadOnlyList<string> problems)
    {
        Arguments = arguments;
        Problems = problems;
    }

    /// <summary>The command line to parse: the settings from the file and the environment, then the given arguments.</summary>
    public IReadOnlyList<string> Arguments { get; private set; }

    /// <summary>One line per bad key or value; when any, the server does not start.</summary>
    public IReadOnlyList<string> Problems { get; }

    /// <summary>
    /// How a message names an option's value: <c>--max-connections</c> when it came from the command line (or is the
    /// default), <c>max-connections (/etc/filexfer/server.conf line 4)</c> when it came from the file or environment.
    /// </summary>
    public string Describe(string optionName) =>
        _sources.TryGetValue(optionName, out var source) ? $"{optionName.TrimStart('-')} ({source})" : optionName;

    /// <summary>No file, no environment: the command line as it is.</summary>
    public static ServerConfiguration None(IReadOnlyList<string> arguments) => new(arguments, []);

    /// <summary>
    /// Reads the file and the environment for <paramref name="command"/>, given what <paramref name="parsed"/> (the
    /// command line alone) holds: options given there are not taken from elsewhere.
    /// </summary>
    public static ServerConfiguration Build(RootCommand command, Option<FileInfo?> configOption, ParseResult parsed, IReadOnlyList<string> arguments, IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(environment);
        var options = command.Options
            .Where(o => o is not HelpOption and not VersionOption && o != configOption)
            .ToDictionary(o => o.Name.TrimStart('-'), StringComparer.Ordinal);
        var problems = new List<string>();
        var chosen = new Dictionary<string, ConfigEntry>(StringComparer.Ordinal);

        var path = parsed.GetValue(configOption)?.FullName ?? (environment[ConfigVariable] as string is { Length: > 0 } named ? Path.GetFullPath(named) : null);
        if (path is not null)
        {
            string? text = null;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems.Add($"cannot read config file '{path}': {ex.Message}");
            }

            if (text is not null)
            {
                var (entries, fileProblems) = ConfigFile.Parse(text, path);
                problems.AddRange(fileProblems);
                foreach (var entry in entries)
                {
                    if (options.ContainsKey(entry.Key))
                    {
                        chosen[entry.Key] = entry;
                    }
                    else
                    {
                        problems.Add($"{entry.Source}: unknown setting '{entry.Key}' (the settings are the options of filexfer-server --help, without their dashes)");
                    }
                }
            }
        }

        var workingDirectory = Environment.CurrentDirectory;
        foreach (var name in environment.Keys.OfType<string>().Where(n => n.StartsWith(EnvironmentPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            if (name == ConfigVariable)
            {
                continue;
            }

            var key = name[EnvironmentPrefix.Length..].ToLowerInvariant().Replace('_', '-');
            if (!options.ContainsKey(key))
            {
                problems.Add($"${name}: unknown setting '{key}' (the settings are the options of filexfer-server --help, without their dashes)");
                continue;
            }

            chosen[key] = new ConfigEntry(key, environment[name] as string ?? string.Empty, "$" + name, workingDirectory);
        }

        var configuration = new ServerConfiguration(arguments, problems);
        var tokens = new List<string>();
        foreach (var (key, entry) in chosen.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var option = options[key];
            if (parsed.GetResult(option) is { Implicit: false })
            {
                // Given on the command line, which wins.
                continue;
            }

            if (TryConvert(option, entry, out var value, out var problem))
            {
                tokens.Add(option.Name);
                tokens.Add(value);
                configuration._sources[option.Name] = entry.Source;
            }
            else
            {
                problems.Add($"{entry.Source}: {key}: {problem}");
            }
        }

        configuration.Arguments = [.. tokens, .. arguments];
        return configuration;
    }

    /// <summary>The value as the option's parser takes it, or the problem with it.</summary>
    private static bool TryConvert(Option option, ConfigEntry entry, out string value, out string? problem)
    {
        var text = entry.Value.Trim();
        var type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
        value = text;
        problem = null;
        if (type == typeof(bool))
        {
            bool? flag = text.ToLowerInvariant() switch
            {
                "true" or "yes" or "on" or "1" => true,
                "false" or "no" or "off" or "0" => false,
                _ => null,
            };
            value = flag is { } on ? (on ? "true" : "false") : text;
            problem = flag is null ? $"'{text}' is not true or false" : null;
        }
        else if (type == typeof(int) || type == typeof(long))
        {
            bool fits = type == typeof(int)
                ? int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
            problem = fits ? null : $"'{text}' is not a whole number{(type == typeof(int) ? " (up to " + int.MaxValue + ")" : string.Empty)}";
        }
        else if (type == typeof(double))
        {
            problem = double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _)
                ? null
                : $"'{text}' is not a number";
        }
        else if (type.IsEnum)
        {
            if (Enum.TryParse(type, text, ignoreCase: true, out var parsed) && Enum.IsDefined(type, parsed!) && !int.TryParse(text, out _))
            {
                value = parsed!.ToString()!;
            }
            else
            {
                problem = $"'{text}' is not one of {string.Join(", ", Enum.GetNames(type).Select(n => n.ToLowerInvariant()))}";
            }
        }
        else if (text.Length == 0)
        {
            problem = "the value is empty";
        }
        else if (type == typeof(FileInfo) || type == typeof(DirectoryInfo))
        {
            // A relative path in the file is relative to the file, so the file can be read from anywhere.
            value = Path.GetFullPath(text, entry.BaseDirectory);
        }

        return problem is null;
    }
}
