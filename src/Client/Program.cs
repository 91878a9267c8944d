using FileXfer.Client.Cli;

return await CliApplication.RunAsync(args, CliConsole.System, CancellationToken.None);
