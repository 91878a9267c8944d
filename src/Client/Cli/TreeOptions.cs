using System.CommandLine;
using FileXfer.Client.Resilience;

namespace FileXfer.Client.Cli;

/// <summary>The options of tree transfers (<c>-r</c>) and of <c>--json</c>, shared by put, get and verify.</summary>
internal sealed class TreeOptions
{
    public Option<bool> Recursive { get; } = new("--recursive", "-r") { Description = "Transfer the contents of a directory, recursively." };

    public Option<bool> Checksum { get; } = new("--checksum", "-c") { Description = "With -r: skip files whose hash matches, instead of size and modification time." };

    public Option<bool> DryRun { get; } = new("--dry-run", "-n") { Description = "With -r: show what would be transferred or deleted; change nothing." };

    public Option<string[]> Include { get; } = Repeatable("--include", "With -r: glob of files and directories that take part even when an --exclude matches. Repeatable.");

    public Option<string[]> Exclude { get; } = Repeatable("--exclude", "With -r: glob of files and directories to leave out; one ending in '/' matches directories only. Repeatable.");

    public Option<string[]> IncludeFrom { get; } = Repeatable("--include-from", "With -r: file of --include patterns, one a line ('#' and ';' lines are comments). Repeatable.");

    public Option<string[]> ExcludeFrom { get; } = Repeatable("--exclude-from", "With -r: file of --exclude patterns, one a line ('#' and ';' lines are comments). Repeatable.");

    public Option<string> FilesFrom { get; } = new("--files-from")
    {
        Description = "With -r: file of the paths (relative to the top, one a line) that take part; a listed directory brings all it holds.",
    };

    public Option<int> Parallel { get; } = ValueChecks.Between(
        new("--parallel", "-P")
        {
            Description = $"With -r: connections to spread files over (a file takes the next free one). Default: {TreeTransferOptions.DefaultParallel}, {TreeTransferOptions.DefaultLongLinkParallel} when the round trip is {TreeTransferOptions.LongLinkRoundTrip.TotalMilliseconds:F0} ms or more.",
            DefaultValueFactory = _ => TreeTransferOptions.DefaultParallel,
        },
        1,
        64);

    public Option<bool> Json { get; } = new("--json") { Description = "One JSON object per line on stdout (see README for the schema)." };

    /// <summary>The options that select what takes part, in the order commands list them.</summary>
    public Option[] FilterOptions => [Include, Exclude, IncludeFrom, ExcludeFrom, FilesFrom];

    /// <summary>The tree's settings from the command line, for connections of <paramref name="run"/>.</summary>
    public async Task<TreeTransferOptions> ToTransferOptionsAsync(ParseResult result, ClientRun run, CancellationToken cancellationToken)
    {
        return new TreeTransferOptions
        {
            Run = run,
            Checksum = result.GetValue(Checksum),
            DryRun = result.GetValue(DryRun),
            Parallel = result.GetValue(Parallel),
            LongLinkParallel = result.GetResult(Parallel) is { Implicit: false } ? result.GetValue(Parallel) : TreeTransferOptions.DefaultLongLinkParallel,
            Filter = await ToFilterAsync(result, cancellationToken),
        };
    }

    /// <summary>The filter of --include, --exclude, their files and --files-from; a file that cannot be read is a usage error.</summary>
    public async Task<PathFilter> ToFilterAsync(ParseResult result, CancellationToken cancellationToken)
    {
        var includes = new List<string>(result.GetValue(Include) ?? []);
        var excludes = new List<string>(result.GetValue(Exclude) ?? []);
        foreach (var (option, include) in new[] { (IncludeFrom, true), (ExcludeFrom, false) })
        {
            foreach (var file in result.GetValue(option) ?? [])
            {
                foreach (var line in await ReadListAsync(option, file, cancellationToken))
                {
                    var (pattern, isInclude) = FilterFile.ParseRule(line, include);
                    (isInclude ? includes : excludes).Add(pattern);
                }
            }
        }

        ListedPaths? listed = null;
        if (result.GetValue(FilesFrom) is { } filesFrom)
        {
            try
            {
                listed = new ListedPaths(await ReadListAsync(FilesFrom, filesFrom, cancellationToken));
            }
            catch (FormatException ex)
            {
                throw new UserFacingException(ExitCode.Usage, $"bad path in --files-from '{filesFrom}': {ex.Message}");
            }
        }

        try
        {
            return new PathFilter(includes, excludes, listed);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            throw new UserFacingException(ExitCode.Usage, $"bad --include/--exclude pattern: {ex.Message}");
        }
    }

    private static async Task<List<string>> ReadListAsync(Option option, string file, CancellationToken cancellationToken)
    {
        if (file == "-")
        {
            throw new UserFacingException(ExitCode.Usage, $"{option.Name} cannot read standard input ('-'); give a file");
        }

        try
        {
            using var reader = File.OpenText(file);
            return await FilterFile.ReadEntriesAsync(reader, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // .NET's own messages repeat the full path, and call a directory "access denied".
            var reason = ex is FileNotFoundException or DirectoryNotFoundException ? "no such file"
                : Directory.Exists(file) ? "it is a directory"
                : ex.Message;
            throw new UserFacingException(ExitCode.Usage, $"cannot read {option.Name} '{file}': {reason}");
        }
    }

    /// <summary>An option given once per value (<c>--exclude a --exclude b</c>), never several values after one name.</summary>
    private static Option<string[]> Repeatable(string name, string description) =>
        new(name) { Description = description, AllowMultipleArgumentsPerToken = false };
}
