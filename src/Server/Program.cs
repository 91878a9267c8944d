using System.CommandLine;
using FileXfer.Server;

// Logs go to stderr through a buffered writer, flushed once per batch of lines (see LineLoggerProvider).
var command = ServerCommand.Create(
    Console.Out,
    Console.Error,
    () => new StreamWriter(Console.OpenStandardError(), new System.Text.UTF8Encoding(false), 64 * 1024) { AutoFlush = false });

// The server handles SIGINT and SIGTERM itself and drains for --shutdown-timeout. System.CommandLine's own
// handler would end the process 2 seconds after the signal with exit code 130/143, cutting the drain short.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await command.Parse(args).InvokeAsync(invocation);
