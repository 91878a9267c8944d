using System.CommandLine;
using System.CommandLine.Parsing;

namespace FileXfer.Client.Cli.Remotes;

/// <summary>
/// Which named remote a command line uses: <c>--remote NAME</c>, or <c>NAME:path</c> in a remote path
/// (<c>filexfer put backup.tar office:nightly/</c>), as rclone's <c>remote:path</c>. A prefix counts only when NAME is
/// a remote of the configuration file, so a remote path that merely holds a colon stays a path. One command talks to
/// one server: two different remotes are a usage error.
/// </summary>
internal static class RemoteSelection
{
    /// <summary>
    /// The remote, and the command line's tokens with the <c>NAME:</c> prefixes taken off (null when there were
    /// none). The configuration file is read only when the command line may use it.
    /// </summary>
    /// <exception cref="UserFacingException">The file cannot be read or has problems, the remote is unknown, or two are named.</exception>
    public static (RemoteSettings? Remote, string[]? Tokens) Resolve(ParseResult result, Option<string?> remoteOption, CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(console);
        var requested = result.GetValue(remoteOption);
        var candidates = new List<(Token Token, string Name, string Path)>();
        foreach (var argument in result.CommandResult.Children.OfType<ArgumentResult>())
        {
            if (!RemoteArguments.IsRemote(argument.Argument, out bool lastOnly))
            {
                continue;
            }

            foreach (var token in lastOnly ? argument.Tokens.TakeLast(1) : argument.Tokens)
            {
                int colon = token.Value.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && ClientConfigFile.NamePattern().IsMatch(token.Value.AsSpan(0, colon)))
                {
                    candidates.Add((token, token.Value[..colon], token.Value[(colon + 1)..]));
                }
            }
        }

        if (requested is null && candidates.Count == 0)
        {
            return (null, null);
        }

        var (remotes, path) = Load(console, mustExist: requested is not null);
        var used = candidates.Where(c => remotes.ContainsKey(c.Name)).ToList();
        var names = used.Select(c => c.Name).Append(requested).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (names.Count > 1)
        {
            throw new UserFacingException(ExitCode.Usage, $"one command talks to one server, but remotes {string.Join(" and ", names.Select(n => $"'{n}'"))} are named");
        }

        if (names.Count == 0)
        {
            return (null, null);
        }

        if (!remotes.TryGetValue(names[0], out var remote))
        {
            var known = remotes.Count == 0 ? "none is defined" : "defined: " + string.Join(", ", remotes.Keys.Order(StringComparer.Ordinal));
            throw new UserFacingException(ExitCode.Usage, $"unknown remote '{names[0]}' in {path ?? "the configuration file"} ({known})");
        }

        if (used.Count == 0)
        {
            return (remote, null);
        }

        // A bare "NAME:" is the remote's root.
        var replaced = new Dictionary<object, string>(ReferenceEqualityComparer.Instance);
        foreach (var (token, _, stripped) in used)
        {
            replaced[token] = stripped.Length == 0 ? "/" : stripped;
        }

        return (remote, [.. result.Tokens.Select(t => replaced.TryGetValue(t, out var stripped) ? stripped : t.Value)]);
    }

    private static (IReadOnlyDictionary<string, RemoteSettings> Remotes, string? Path) Load(CliConsole console, bool mustExist)
    {
        if (ClientConfigFile.Locate(console.GetEnvironmentVariable) is not { } location)
        {
            return mustExist
                ? throw new UserFacingException(ExitCode.Usage, $"--remote needs a configuration file: set ${ClientConfigFile.ConfigVariable}, or HOME for ~/.config/filexfer/config")
                : (new Dictionary<string, RemoteSettings>(), null);
        }

        string text;
        try
        {
            text = File.ReadAllText(location.Path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException && !location.Explicit && !mustExist)
        {
            // No configuration file: no remotes, and "a:b" is an ordinary path.
            return (new Dictionary<string, RemoteSettings>(), location.Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UserFacingException(ExitCode.Usage, $"cannot read configuration file '{location.Path}': {ex.Message}");
        }

        var (remotes, problems) = ClientConfigFile.Parse(text, location.Path, console.GetEnvironmentVariable("HOME"));
        if (problems.Count > 0)
        {
            // One line each: ErrorReporter marks every line of a message with the program's name.
            throw new UserFacingException(ExitCode.Usage, string.Join("\n", problems));
        }

        return (remotes, location.Path);
    }
}
