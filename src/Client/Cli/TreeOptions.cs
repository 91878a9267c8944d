using System.CommandLine;
using FileXfer.Client.Sync;

namespace FileXfer.Client.Cli;

/// <summary>The options of tree transfers (<c>-r</c>) and of <c>--json</c>, shared by put, get and verify.</summary>
internal sealed class TreeOptions
{
    public Option<bool> Recursive { get; } = new("--recursive", "-r") { Description = "Transfer the contents of a directory, recursively." };

    public Option<bool> Checksum { get; } = new("--checksum", "-c") { Description = "With -r: skip files whose hash matches, instead of size and modification time." };

    public Option<bool> DryRun { get; } = new("--dry-run", "-n") { Description = "With -r: show what would be transferred or deleted; change nothing." };

    public Option<string[]> Include { get; } = new("--include")
    {
        Description = "With -r: glob of files to transfer even when an --exclude matches. Repeatable.",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string[]> Exclude { get; } = new("--exclude")
    {
        Description = "With -r: glob of files to leave out; a pattern ending in '/' leaves out directories. Repeatable.",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<int> Parallel { get; } = ValueChecks.Between(
        new("--parallel", "-P")
        {
            Description = "With -r: connections to spread files over (a file takes the next free one).",
            DefaultValueFactory = _ => TreeTransferOptions.DefaultParallel,
        },
        1,
        64);

    public Option<bool> Json { get; } = new("--json") { Description = "One JSON object per line on stdout (see README for the schema)." };

    public TreeTransferOptions ToTransferOptions(ParseResult result)
    {
        return new TreeTransferOptions
        {
            Checksum = result.GetValue(Checksum),
            DryRun = result.GetValue(DryRun),
            Parallel = result.GetValue(Parallel),
            Filter = ToFilter(result),
        };
    }

    public PathFilter ToFilter(ParseResult result)
    {
        try
        {
            return new PathFilter(result.GetValue(Include), result.GetValue(Exclude));
        }
        catch (ArgumentException ex)
        {
            throw new UserFacingException(ExitCode.Usage, $"bad --include/--exclude pattern: {ex.Message}");
        }
    }

    /// <summary>Fails when tree-only options are given without -r.</summary>
    public static void RequireRecursiveFor(ParseResult result, params Option[] options)
    {
        foreach (var option in options)
        {
            if (result.GetResult(option) is { Implicit: false })
            {
                throw new UserFacingException(ExitCode.Usage, $"{option.Name} needs -r");
            }
        }
    }
}
