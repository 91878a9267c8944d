using FileXfer.Client.Cli;

using var signals = TerminationSignals.Register(TimeProvider.System, code =>
{
    // A command that did not stop in time (or a second signal): nothing more will be reported.
    CliConsole.System.Error.WriteLine("filexfer: interrupted");
    Environment.Exit(code);
});
int code = await CliApplication.RunAsync(args, CliConsole.System, signals.Token);
signals.Finish();
return signals.ExitCodeAfter(code);
