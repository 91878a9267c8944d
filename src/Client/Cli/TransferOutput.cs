using System.Globalization;

namespace FileXfer.Client.Cli;

/// <summary>
/// Reports transfers as people and scripts want them: a line per sent file and a summary for people, one JSON
/// object per file and a summary object with <c>--json</c>, errors on stderr either way; and the exit code.
/// </summary>
/// <remarks>
/// It keeps no record per file (a tree may hold millions): the tree run counts each file once, over all attempts
/// of a retried command (<see cref="TreeProgress"/>), and its summary is the one printed.
/// </remarks>
internal sealed class TransferOutput(CliConsole console, string command, bool json, bool quiet, bool dryRun)
{
    private readonly JsonLines _json = new(console.Out);
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();

    public async ValueTask OnEventAsync(TreeEvent item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (json)
        {
            await _json.WriteAsync(writer =>
            {
                writer.WriteString("op", item.Operation);
                writer.WriteString("status", item.Status.ToString().ToLowerInvariant());
                JsonLines.WriteNullableString(writer, "local", item.LocalPath);
                writer.WriteString("remote", item.RemotePath);
                writer.WriteNumber("bytes", item.Bytes);
                JsonLines.WriteNullableString(writer, item.HashAlgorithm, item.HashHex);
                if (item.Error is { } error)
                {
                    writer.WriteString("error", ErrorReporter.Classify(error).Message);
                }

                if (dryRun)
                {
                    writer.WriteBoolean("dry_run", true);
                }
            });
        }

        if (item.Error is { } failure)
        {
            await console.Error.WriteLineAsync($"filexfer: {RemotePath.Escape(item.RemotePath)}: {ErrorReporter.Classify(failure).Message}");
            return;
        }

        if (json || quiet)
        {
            return;
        }

        var verb = (item.Status, item.Operation, dryRun) switch
        {
            (ItemStatus.Transferred, "put", false) => "sent",
            (ItemStatus.Transferred, "put", true) => "would send",
            (ItemStatus.Transferred, _, false) => "received",
            (ItemStatus.Transferred, _, true) => "would receive",
            (ItemStatus.Deleted, _, false) => "deleted",
            (ItemStatus.Deleted, _, true) => "would delete",
            _ => null,
        };
        if (verb is not null)
        {
            var path = item.Operation == "get" && item.LocalPath is not null ? item.LocalPath : item.RemotePath;
            await console.Out.WriteLineAsync($"{verb} {RemotePath.Escape(path)}" + (item.Status == ItemStatus.Transferred ? $" ({ByteSize.Format(item.Bytes)})" : string.Empty));
        }
    }

    public async Task<ExitCode> FinishAsync(TreeSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        summary = summary with { Elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(_started) };
        double seconds = summary.Elapsed.TotalSeconds;
        if (json)
        {
            await _json.WriteAsync(writer =>
            {
                writer.WriteString("op", "summary");
                writer.WriteString("command", command);
                writer.WriteNumber("transferred", summary.Transferred);
                writer.WriteNumber("skipped", summary.Skipped);
                writer.WriteNumber("failed", summary.Failed);
                writer.WriteNumber("deleted", summary.Deleted);
                writer.WriteNumber("vanished", summary.Vanished);
                writer.WriteNumber("bytes", summary.Bytes);
                writer.WriteNumber("seconds", Math.Round(seconds, 3));
                writer.WriteBoolean("dry_run", summary.DryRun);
            });
        }
        else if (!quiet)
        {
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{command}: {summary.Transferred} {(summary.DryRun ? "to transfer" : "transferred")}, {summary.Skipped} unchanged, {summary.Failed} failed");
            if (summary.Vanished > 0)
            {
                line += string.Create(CultureInfo.InvariantCulture, $", {summary.Vanished} vanished or changed while read");
            }

            if (summary.Deleted > 0)
            {
                line += string.Create(CultureInfo.InvariantCulture, $", {summary.Deleted} {(summary.DryRun ? "to delete" : "deleted")}");
            }

            line += string.Create(CultureInfo.InvariantCulture, $"; {ByteSize.Format(summary.Bytes)} in {seconds:F2} s");
            if (summary.Transferred == 0 && summary.Failed == 0 && summary.Deleted == 0)
            {
                line += " (nothing to transfer: everything is up to date)";
            }

            await console.Out.WriteLineAsync(line);
        }

        return summary.Failed > 0 ? (summary.IntegrityFailure ? ExitCode.Integrity : ExitCode.SomeFailed)
            : summary.Vanished > 0 ? ExitCode.SourceVanished
            : ExitCode.Ok;
    }
}
