using System.CommandLine;
using System.Globalization;

namespace FileXfer.Client.Cli.Commands;

/// <summary><c>filexfer stat REMOTE</c>.</summary>
internal static class StatCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var remote = RemoteArguments.Checked(new Argument<string>("REMOTE") { Description = "Remote path." });
        var json = new Option<bool>("--json") { Description = "One JSON object: path, type, size, mtime, mode." };
        var command = new Command("stat", "Show a remote path's type, size, modification time and permissions.") { remote, json };
        command.SetAction((result, cancellationToken) =>
        {
            var path = result.GetValue(remote)!;
            bool asJson = result.GetValue(json);
            return CommandRunner.RunAsync(console, globals, result, algorithm: null, async client =>
            {
                var entry = await client.StatAsync(path, cancellationToken);
                if (asJson)
                {
                    await new JsonLines(console.Out).WriteAsync(writer => ListCommand.WriteEntry(writer, "path", entry with { Name = "/" + entry.Name }));
                    return ExitCode.Ok;
                }

                var kind = ListCommand.KindName(entry.Kind);
                var mode = entry.Mode is { } bits
                    ? string.Create(CultureInfo.InvariantCulture, $"{Convert.ToString(bits & 0xFFF, 8).PadLeft(4, '0')} ({ListCommand.PermissionString(bits)})")
                    : "unknown";
                await console.Out.WriteLineAsync($"path: /{RemotePath.Escape(entry.Name)}");
                await console.Out.WriteLineAsync($"type: {kind}");
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"size: {entry.Size}"));
                await console.Out.WriteLineAsync($"modified: {entry.ModifiedUtc.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture)}");
                await console.Out.WriteLineAsync($"mode: {mode}");
                return ExitCode.Ok;
            }, cancellationToken);
        });
        return command;
    }
}
