using System.CommandLine;
using System.Globalization;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Paths;

namespace FileXfer.Client.Cli.Commands;

/// <summary><c>filexfer stat REMOTE</c>.</summary>
internal static class StatCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var remote = new Argument<string>("REMOTE") { Description = "Remote path." };
        var command = new Command("stat", "Show a remote path's type, size, modification time and permissions.") { remote };
        command.SetAction((result, cancellationToken) =>
        {
            var path = result.GetValue(remote)!;
            return CommandRunner.RunAsync(console, globals, result, algorithm: null, async client =>
            {
                var entry = await client.StatAsync(path, cancellationToken);
                var kind = entry.Kind switch
                {
                    EntryKind.File => "file",
                    EntryKind.Directory => "directory",
                    _ => "other",
                };
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
