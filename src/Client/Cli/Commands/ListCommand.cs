using System.CommandLine;
using System.Globalization;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Paths;

namespace FileXfer.Client.Cli.Commands;

/// <summary><c>filexfer ls [REMOTE] [-l]</c>.</summary>
internal static class ListCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var remote = new Argument<string>("REMOTE")
        {
            Description = "Remote directory (or file). Default: the root.",
            DefaultValueFactory = _ => "/",
        };
        var longFormat = new Option<bool>("--long", "-l") { Description = "Show type, permissions, size and modification time." };
        var command = new Command("ls", "List a remote directory.") { remote, longFormat };
        command.SetAction((result, cancellationToken) =>
        {
            var path = result.GetValue(remote)!;
            bool isLong = result.GetValue(longFormat);
            return CommandRunner.RunAsync(console, globals, result, algorithm: null, async client =>
            {
                IReadOnlyList<RemoteEntry> entries;
                try
                {
                    entries = await client.ListAsync(path, cancellationToken);
                }
                catch (FileXferException ex) when (ex.Code == ErrorCode.NotADirectory)
                {
                    // Like ls(1): listing a file shows the file.
                    var entry = await client.StatAsync(path, cancellationToken);
                    entries = [entry with { Name = RemotePath.GetName(entry.Name) }];
                }

                foreach (var entry in entries)
                {
                    await console.Out.WriteLineAsync(isLong ? FormatLong(entry) : FormatName(entry));
                }

                return ExitCode.Ok;
            }, cancellationToken);
        });
        return command;
    }

    internal static string FormatName(RemoteEntry entry) =>
        RemotePath.Escape(entry.Name) + (entry.Kind == EntryKind.Directory ? "/" : string.Empty);

    internal static string FormatLong(RemoteEntry entry)
    {
        char type = entry.Kind switch
        {
            EntryKind.Directory => 'd',
            EntryKind.File => '-',
            _ => '?',
        };
        return string.Create(CultureInfo.InvariantCulture,
            $"{type}{PermissionString(entry.Mode)} {entry.Size,14} {entry.ModifiedUtc.UtcDateTime:yyyy-MM-dd HH:mm:ss} {FormatName(entry)}");
    }

    internal static string PermissionString(int? mode)
    {
        if (mode is not { } bits)
        {
            return "?????????";
        }

        Span<char> chars = stackalloc char[9];
        const string Letters = "rwxrwxrwx";
        for (int i = 0; i < 9; i++)
        {
            chars[i] = (bits & (1 << (8 - i))) != 0 ? Letters[i] : '-';
        }

        return new string(chars);
    }
}
