using System.CommandLine;
using FileXfer.Protocol.Paths;

namespace FileXfer.Client.Cli.Commands;

/// <summary><c>filexfer get REMOTE [LOCAL]</c>.</summary>
internal static class GetCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var remote = new Argument<string>("REMOTE") { Description = "Remote file to download." };
        var local = new Argument<string>("LOCAL")
        {
            Description = "Local path; an existing directory receives the remote name. Default: the current directory.",
            DefaultValueFactory = _ => ".",
        };
        var command = new Command("get", "Download a file. It is written to a temp file beside LOCAL and renamed only after its hash matched.")
        {
            remote, local, globals.Algorithm,
        };
        command.SetAction((result, cancellationToken) =>
        {
            var remotePath = result.GetValue(remote)!;
            var localPath = result.GetValue(local)!;
            bool quiet = result.GetValue(globals.Quiet);
            return CommandRunner.RunAsync(console, globals, result, result.GetValue(globals.Algorithm), async client =>
            {
                var normalized = RemotePath.Normalize(remotePath);
                if (Directory.Exists(localPath))
                {
                    var name = RemotePath.GetName(normalized);
                    if (name.Length == 0)
                    {
                        throw new UserFacingException(ExitCode.Usage, "the remote root is a directory, not a file");
                    }

                    localPath = Path.Combine(localPath, name);
                }

                var parent = Path.GetDirectoryName(Path.GetFullPath(localPath));
                if (parent is null || !Directory.Exists(parent))
                {
                    throw new UserFacingException(ExitCode.NotFound, $"local directory '{parent}' does not exist");
                }

                // The size for the bar costs a round trip, paid only when a bar is drawn.
                long total = ProgressBar.IsShown(console, quiet) ? (await client.StatAsync(normalized, cancellationToken)).Size : 0;
                var progress = new ProgressBar(console, quiet, RemotePath.Escape(normalized), total);
                TransferResult transfer;
                try
                {
                    transfer = await client.DownloadFileAsync(normalized, localPath, progress.Advance, cancellationToken);
                }
                catch
                {
                    progress.Clear();
                    throw;
                }

                progress.Complete();
                if (!quiet)
                {
                    await console.Out.WriteLineAsync($"saved {RemotePath.Escape(localPath)} ({ByteSize.Format(transfer.Size)}, {transfer.HashAlgorithm} {transfer.HashHex})");
                }

                return ExitCode.Ok;
            }, cancellationToken);
        });
        return command;
    }
}
