using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;

namespace FileXfer.Client.Cli.Commands;

/// <summary>
/// <c>filexfer verify LOCAL REMOTE [-r]</c> and <c>verify --sums FILE REMOTEDIR</c>: compare content by hash, each
/// side hashing its own copy, without transferring file contents.
/// </summary>
internal static partial class VerifyCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var paths = new Argument<string[]>("PATHS")
        {
            Description = "LOCAL REMOTE (a file each, or directories with -r); with --sums, only REMOTEDIR.",
            Arity = new ArgumentArity(1, 2),
        };
        RemoteArguments.Checked(ValueChecks.NotEmpty(paths), lastOnly: true);
        var sums = new Option<FileInfo>("--sums") { Description = "Check a manifest ('<hex>  <path>' lines, as sha256sum and 'hash -r' write) against REMOTEDIR." };
        var tree = new TreeOptions();
        tree.Parallel.Description = $"With -r: connections the server's hashes are spread over (it hashes one file at a time on each), beside the one that lists. Default: {TreeTransferOptions.DefaultParallel}, {TreeTransferOptions.DefaultLongLinkParallel} when the round trip is {TreeTransferOptions.LongLinkRoundTrip.TotalMilliseconds:F0} ms or more.";
        var command = new Command("verify", "Check that the server stores what is here, by hash, without downloading. Exits 0 when identical, 4 when anything differs or is missing.")
        {
            paths, tree.Recursive, sums, tree.Include, tree.Exclude, tree.IncludeFrom, tree.ExcludeFrom, tree.FilesFrom, tree.Parallel, tree.Json, globals.Algorithm,
        };
        CommandRules.Add(command, result =>
            (result.GetValue(sums) is not null, result.GetValue(paths)?.Length ?? 0) switch
            {
                (true, not 1) => "verify --sums FILE takes one REMOTEDIR",
                (false, not 2) => "verify takes LOCAL and REMOTE (or --sums FILE REMOTEDIR)",
                _ => CommandRules.NeedsRecursive(result, tree.Recursive, [.. tree.FilterOptions, tree.Parallel]),
            });
        command.SetAction((result, cancellationToken) =>
        {
            var arguments = result.GetValue(paths)!;
            var manifestFile = result.GetValue(sums);
            bool json = result.GetValue(tree.Json);
            bool quiet = result.GetValue(globals.Quiet);
            bool explicitAlgorithm = result.GetResult(globals.Algorithm) is { Implicit: false };
            return CommandRunner.RunAsync(console, globals, result, result.GetValue(globals.Algorithm), async (connect, options, retry) =>
            {
                List<(string Path, string HashHex)>? manifest = null;
                if (manifestFile is not null)
                {
                    manifest = ReadManifest(manifestFile.FullName);
                    if (!explicitAlgorithm && manifest.Count > 0)
                    {
                        // The digest length names the algorithm: 64 hex digits are SHA-256, 32 are XXH128.
                        options.HashAlgorithm = manifest[0].HashHex.Length == 32 ? HashAlgorithms.XxHash128 : HashAlgorithms.Sha256;
                    }
                }
                else if (result.GetValue(tree.Recursive) ? !Directory.Exists(arguments[0]) : !File.Exists(arguments[0]))
                {
                    throw Directory.Exists(arguments[0]) ? new UserFacingException(ExitCode.Usage, $"'{arguments[0]}' is a directory (use verify -r)")
                        : File.Exists(arguments[0]) ? new UserFacingException(ExitCode.Usage, $"'{arguments[0]}' is a file (verify -r takes directories)")
                        : new UserFacingException(ExitCode.NotFound, $"'{arguments[0]}' not found");
                }

                bool recursive = result.GetValue(tree.Recursive);
                int parallel = result.GetValue(tree.Parallel);
                int longLinkParallel = result.GetResult(tree.Parallel) is { Implicit: false } ? parallel : TreeTransferOptions.DefaultLongLinkParallel;

                var filter = recursive ? await tree.ToFilterAsync(result, cancellationToken) : PathFilter.All;
                var output = new VerifyOutput(console, json, quiet);

                // A file is reported once both sides are hashed. A retry starts again: a single file's or a manifest's
                // events come only at the end, but verify -r's come as the walk goes, so a retried walk repeats those before the failure.
                var summary = await retry.ExecuteAsync(async token =>
                {
                    await using var client = await connect(token);
                    // A tree's remote hashes go over connections of their own (-P), the way put -r and get -r spread files.
                    var verifier = new Verifier(client, options.HashAlgorithm, filter)
                    {
                        Connect = manifest is null && recursive ? connect : null,
                        Parallel = parallel,
                        LongLinkParallel = longLinkParallel,
                    };
                    return manifest is not null
                        ? await verifier.VerifySumsAsync(manifest, arguments[0], output.OnEventAsync, token)
                        : recursive
                            ? await verifier.VerifyTreeAsync(arguments[0], arguments[1], output.OnEventAsync, token)
                            : await verifier.VerifyFileAsync(arguments[0], arguments[1], output.OnEventAsync, token);
                }, cancellationToken);
                return await output.FinishAsync(summary);
            }, cancellationToken);
        });
        return command;
    }

    /// <summary>Reads <c>HEX  PATH</c> (or <c>HEX *PATH</c>) lines; blank lines and <c>#</c> comments are skipped.</summary>
    internal static List<(string Path, string HashHex)> ReadManifest(string file)
    {
        var entries = new List<(string, string)>();
        int number = 0;
        foreach (var line in File.ReadLines(file))
        {
            number++;
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var match = ManifestLine().Match(line);
            if (!match.Success)
            {
                throw new UserFacingException(ExitCode.Usage, string.Create(CultureInfo.InvariantCulture, $"{file}:{number}: not a '<hex>  <path>' line"));
            }

            entries.Add((match.Groups["path"].Value, match.Groups["hash"].Value));
        }

        return entries;
    }

    [GeneratedRegex("^(?<hash>[0-9a-fA-F]{32}|[0-9a-fA-F]{64}) [ *](?<path>.+)$")]
    private static partial Regex ManifestLine();

    private sealed class VerifyOutput(CliConsole console, bool json, bool quiet)
    {
        private readonly JsonLines _json = new(console.Out);

        public async ValueTask OnEventAsync(VerifyEvent item)
        {
            var status = item.Status switch
            {
                VerifyStatus.Identical => "identical",
                VerifyStatus.Differs => "differs",
                VerifyStatus.MissingOnServer => "missing_on_server",
                VerifyStatus.OnlyOnServer => "only_on_server",
                _ => "failed",
            };
            if (json)
            {
                await _json.WriteAsync(writer =>
                {
                    writer.WriteString("op", "verify");
                    writer.WriteString("status", status);
                    JsonLines.WriteNullableString(writer, "local", item.LocalPath);
                    writer.WriteString("remote", item.RemotePath);
                    JsonLines.WriteNullableString(writer, item.HashAlgorithm, item.LocalHashHex);
                    JsonLines.WriteNullableString(writer, "remote_" + item.HashAlgorithm, item.RemoteHashHex);
                    if (item.Error is { } error)
                    {
                        writer.WriteString("error", ErrorReporter.Classify(error).Message);
                    }
                });
            }

            if (item.Error is { } failure)
            {
                await console.Error.WriteLineAsync($"filexfer: {RemotePath.Escape(item.RemotePath)}: {ErrorReporter.Classify(failure).Message}");
            }
            else if (!json && !quiet && item.Status != VerifyStatus.Identical)
            {
                await console.Out.WriteLineAsync($"{status.Replace('_', ' ')}: {RemotePath.Escape(item.RemotePath)}");
            }
        }

        public async Task<ExitCode> FinishAsync(VerifySummary summary)
        {
            if (json)
            {
                await _json.WriteAsync(writer =>
                {
                    writer.WriteString("op", "summary");
                    writer.WriteString("command", "verify");
                    writer.WriteNumber("identical", summary.Identical);
                    writer.WriteNumber("differs", summary.Differs);
                    writer.WriteNumber("missing_on_server", summary.MissingOnServer);
                    writer.WriteNumber("only_on_server", summary.OnlyOnServer);
                    writer.WriteNumber("failed", summary.Failed);
                    writer.WriteNumber("seconds", Math.Round(summary.Elapsed.TotalSeconds, 3));
                });
            }
            else if (!quiet)
            {
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"verify: {summary.Identical} identical, {summary.Differs} differ, {summary.MissingOnServer} missing on server, {summary.OnlyOnServer} only on server, {summary.Failed} failed"));
            }

            return summary.Differs + summary.MissingOnServer + summary.OnlyOnServer > 0 ? ExitCode.Integrity
                : summary.Failed > 0 ? ExitCode.SomeFailed
                : ExitCode.Ok;
        }
    }
}
