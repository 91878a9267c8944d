using System.Globalization;
using System.Text.RegularExpressions;
using FileXfer.Protocol.Net;

namespace FileXfer.Client.Cli.Remotes;

/// <summary>
/// The client's configuration file: named servers (remotes), rclone's <c>rclone.conf</c> in the syntax of git's
/// config. <c>[NAME]</c> starts a remote; <c>key = value</c> lines set it; blank lines and <c>#</c> or <c>;</c> lines
/// are skipped. Keys: <c>server</c>, <c>token-file</c>, <c>tls</c>, <c>pin</c>, <c>known-hosts</c>,
/// <c>tls-no-tofu</c>, <c>algorithm</c>, <c>retries</c>, <c>connect-timeout</c>, <c>timeout</c>, <c>bwlimit</c>: the options of the
/// same names. Paths may start with <c>~/</c>; a relative path is relative to the file. Every problem is one line
/// naming the file and line.
/// </summary>
internal static partial class ClientConfigFile
{
    /// <summary>The environment variable naming the file, else <c>$XDG_CONFIG_HOME/filexfer/config</c>, else <c>~/.config/filexfer/config</c>.</summary>
    public const string ConfigVariable = "FILEXFER_CONFIG";

    /// <summary>The keys a remote takes.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["server", "token-file", "tls", "pin", "known-hosts", "tls-no-tofu", "algorithm", "retries", "connect-timeout", "timeout", "bwlimit"];

    /// <summary>A remote's name, as it is written before the colon of <c>NAME:path</c>.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    public static partial Regex NamePattern();

    /// <summary>The file to read, and whether it was named explicitly (then it must exist); null when there is no place for one.</summary>
    public static (string Path, bool Explicit)? Locate(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment(ConfigVariable) is { Length: > 0 } named)
        {
            return (Path.GetFullPath(named), true);
        }

        var config = environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg)
            ? xdg
            : environment("HOME") is { Length: > 0 } home ? Path.Combine(home, ".config") : null;
        return config is null ? null : (Path.Combine(config, "filexfer", "config"), false);
    }

    /// <summary>The remotes of <paramref name="text"/>, and the problems found; <paramref name="path"/> names the file.</summary>
    public static (IReadOnlyDictionary<string, RemoteSettings> Remotes, IReadOnlyList<string> Problems) Parse(string text, string path, string? home)
    {
        ArgumentNullException.ThrowIfNull(text);
        var remotes = new Dictionary<string, RemoteSettings>(StringComparer.Ordinal);
        var problems = new List<string>();
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? "/";
        RemoteSettings? current = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r').Trim();
            var where = $"{path} line {i + 1}";
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[')
            {
                var name = line.EndsWith(']') ? line[1..^1].Trim() : string.Empty;
                if (!NamePattern().IsMatch(name))
                {
                    problems.Add($"{where}: '{line}' is not a remote's heading: [NAME], NAME of letters, digits, '.', '_' and '-'");
                    current = null;
                    continue;
                }

                if (remotes.ContainsKey(name))
                {
                    problems.Add($"{where}: remote '{name}' is defined twice");
                }

                current = new RemoteSettings(name);
                remotes[name] = current;
                seen.Clear();
                continue;
            }

            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                problems.Add($"{where}: expected 'key = value' or '[NAME]', not '{line}'");
                continue;
            }

            var key = line[..equals].Trim().ToLowerInvariant();
            var value = line[(equals + 1)..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1];
            }

            if (current is null)
            {
                problems.Add($"{where}: '{key}' is outside of a remote; start one with [NAME]");
                continue;
            }

            if (!seen.Add(key))
            {
                problems.Add($"{where}: '{key}' is set twice for remote '{current.Name}'");
                continue;
            }

            var (updated, problem) = Apply(current, key, value, directory, home);
            if (problem is not null)
            {
                problems.Add($"{where}: {problem}");
                continue;
            }

            current = updated;
            remotes[current.Name] = current;
        }

        return (remotes, problems);
    }

    private static (RemoteSettings Settings, string? Problem) Apply(RemoteSettings remote, string key, string value, string directory, string? home)
    {
        switch (key)
        {
            case "server":
                return HostPort.TryParse(value, out var server, out var error)
                    ? (remote with { Server = server }, null)
                    : (remote, $"server: {error}");
            case "token-file":
                return value.Length == 0 ? (remote, "token-file: the value is empty") : (remote with { TokenFile = FullPath(value, directory, home) }, null);
            case "known-hosts":
                return value.Length == 0 ? (remote, "known-hosts: the value is empty") : (remote with { KnownHosts = FullPath(value, directory, home) }, null);
            case "tls" or "tls-no-tofu":
                bool? flag = value.ToLowerInvariant() switch
                {
                    "true" or "yes" or "on" or "1" => true,
                    "false" or "no" or "off" or "0" => false,
                    _ => null,
                };
                return flag is null
                    ? (remote, $"{key}: '{value}' is not true or false")
                    : (key == "tls" ? remote with { Tls = flag } : remote with { TlsNoTofu = flag }, null);
            case "pin":
                return CertificateFingerprint.TryParse(value, out _)
                    ? (remote with { Pin = value }, null)
                    : (remote, $"pin: '{value}' is not a SHA-256 fingerprint (64 hex digits, colons allowed)");
            case "algorithm":
                return HashAlgorithms.IsSupported(value)
                    ? (remote with { Algorithm = value }, null)
                    : (remote, $"algorithm: '{value}' is not one of {string.Join(", ", HashAlgorithms.Supported)}");
            case "retries":
                return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int retries) && retries <= 100
                    ? (remote with { Retries = retries }, null)
                    : (remote, $"retries: '{value}' is not a whole number from 0 to 100");
            case "connect-timeout" or "timeout":
                return double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds) && seconds > 0 && seconds <= 1_000_000
                    ? (key == "timeout" ? remote with { Timeout = seconds } : remote with { ConnectTimeout = seconds }, null)
                    : (remote, $"{key}: '{value}' is not a number of seconds from 0 to 1000000");
            case "bwlimit":
                return BandwidthRate.TryParse(value, out _, out var rateError)
                    ? (remote with { BandwidthLimit = value }, null)
                    : (remote, $"bwlimit: {rateError}");
            default:
                return (remote, $"unknown key '{key}' (the keys are {string.Join(", ", Keys)})");
        }
    }

    private static string FullPath(string value, string directory, string? home) =>
        value.StartsWith("~/", StringComparison.Ordinal) && home is { Length: > 0 }
            ? System.IO.Path.Combine(home, value[2..])
            : System.IO.Path.GetFullPath(value, directory);
}
