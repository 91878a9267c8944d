using System.CommandLine;
using System.CommandLine.Parsing;

namespace FileXfer.Client.Cli;

/// <summary><c>--streams N</c> of put and get: how many connections carry one large file (<see cref="ParallelTransfer"/>).</summary>
internal sealed class StreamsOption
{
    public Option<int> Option { get; } = ValueChecks.Between(
        new Option<int>("--streams")
        {
            Description = $"Send one file of {ParallelTransfer.MinimumSize / (1024 * 1024)} MiB or more in ranges over N connections at once (1 turns it off). Default: {ParallelTransfer.DefaultLongLinkStreams} when the round trip is {ParallelTransfer.LongRoundTrip.TotalMilliseconds:F0} ms or more, {ParallelTransfer.DefaultFarLinkStreams} from {ParallelTransfer.FarRoundTrip.TotalMilliseconds:F0} ms, else 1. Not with -r.",
            HelpName = "N",
        },
        1,
        ParallelTransfer.MaxStreams);

    /// <summary>The number given, or null to let the round trip decide.</summary>
    public int? Requested(ParseResult result) => result.GetResult(Option) is { Implicit: false } ? result.GetValue(Option) : null;

    /// <summary>The rule's message when the option is given with -r.</summary>
    public string? NotWithRecursive(CommandResult result, Option<bool> recursive) =>
        result.GetValue(recursive) && result.GetResult(Option) is { Implicit: false } ? "--streams applies to a single file; put -r and get -r send each file over one connection (use --parallel)" : null;
}
