using System.CommandLine;
using FileXfer.Protocol.Paths;

namespace FileXfer.Client.Cli.Commands;

/// <summary><c>filexfer put LOCAL REMOTE</c>.</summary>
internal static class PutCommand
{
    public static Command Create(CliConsole console, GlobalOptions globals)
    {
        var local = new Argument<string>("LOCAL") { Description = "Local file to upload." };
        var remote = new Argument<string>("REMOTE") { Description = "Remote path; ending in '/' keeps the local name inside that directory." };
        var command = new Command("put", "Upload a file. The server stores it under its real name only after the hash of what it received matched.")
        {
            local, remote, globals.Algorithm,
        };
        command.SetAction((result, cancellationToken) =>
        {
            var localPath = result.GetValue(local)!;
            var remotePath = result.GetValue(remote)!;
            bool quiet = result.GetValue(globals.Quiet);
            return CommandRunner.RunAsync(console, globals, result, result.GetValue(globals.Algorithm), async client =>
            {
                if (Directory.Exists(localPath))
                {
                    throw new UserFacingException(ExitCode.Usage, $"'{localPath}' is a directory");
                }

                if (!File.Exists(localPath))
                {
                    throw new UserFacingException(ExitCode.NotFound, $"'{localPath}' not found");
                }

                if (remotePath.EndsWith('/'))
                {
                    remotePath += Path.GetFileName(localPath);
                }

                var progress = new ProgressBar(console, quiet, RemotePath.Escape(remotePath), new FileInfo(localPath).Length);
                TransferResult transfer;
                try
                {
                    transfer = await client.UploadFileAsync(localPath, remotePath, progress.Advance, cancellationToken);
                }
                catch
                {
                    progress.Clear();
                    throw;
                }

                progress.Complete();
                if (!quiet)
                {
                    await console.Out.WriteLineAsync($"stored {RemotePath.Escape(transfer.RemotePath)} ({ByteSize.Format(transfer.Size)}, {transfer.HashAlgorithm} {transfer.HashHex})");
                }

                return ExitCode.Ok;
            }, cancellationToken);
        });
        return command;
    }
}
