using System.CommandLine;
using System.Globalization;

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
        RemoteArguments.Checked(remote);
        var longFormat = new Option<bool>("--long", "-l") { Description = "Show type, permissions, size and modification time." };
        var json = new Option<bool>("--json") { Description = "One JSON object per entry: name, type, size, mtime, mode." };
        var command = new Command("ls", "List a remote directory.") { remote, longFormat, json };
        command.SetAction((result, cancellationToken) =>
        {
            var path = result.GetValue(remote)!;
            bool isLong = result.GetValue(longFormat);
            bool asJson = result.GetValue(json);
            return CommandRunner.RunAsync(console, globals, result, algorithm: null, async client =>
            {
                IReadOnlyList<RemoteEntry> entries;
                IReadOnlyList<OmittedEntry> omitted = [];
                try
                {
                    var listing = await client.ListAsync(path, cancellationToken);
                    entries = listing.Entries;
                    omitted = listing.Omitted;
                }
                catch (FileXferException ex) when (ex.Code == ErrorCode.NotADirectory)
                {
                    // Like ls(1): listing a file shows the file.
                    var entry = await client.StatAsync(path, cancellationToken);
                    entries = [entry with { Name = RemotePath.GetName(entry.Name) }];
                }

                var lines = new JsonLines(console.Out);
                foreach (var entry in entries)
                {
                    if (asJson)
                    {
                        await lines.WriteAsync(writer => WriteEntry(writer, "name", entry));
                    }
                    else
                    {
                        await console.Out.WriteLineAsync(isLong ? FormatLong(entry) : FormatName(entry));
                    }
                }

                // Nothing hidden: what the server has but cannot send is said, and the exit code tells a script.
                foreach (var entry in omitted)
                {
                    await ErrorReporter.ReportAsync(console, entry.ToException());
                }

                return omitted.Count == 0 ? ExitCode.Ok : ExitCode.SomeFailed;
            }, cancellationToken);
        });
        return command;
    }

    /// <summary>The JSON fields of an entry, shared by ls and stat.</summary>
    internal static void WriteEntry(System.Text.Json.Utf8JsonWriter writer, string nameField, RemoteEntry entry)
    {
        writer.WriteString(nameField, entry.Name);
        writer.WriteString("type", KindName(entry.Kind));
        writer.WriteNumber("size", entry.Size);
        writer.WriteString("mtime", JsonLines.Time(entry.ModifiedUtc));
        JsonLines.WriteNullableString(writer, "mode", entry.Mode is { } mode ? Convert.ToString(mode & 0xFFF, 8).PadLeft(4, '0') : null);
    }

    internal static string KindName(EntryKind kind) => kind switch
    {
        EntryKind.File => "file",
        EntryKind.Directory => "directory",
        _ => "other",
    };

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
