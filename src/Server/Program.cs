using System.CommandLine;
using FileXfer.Server;

var command = ServerCommand.Create(Console.Out, Console.Error);

// The server handles SIGINT and SIGTERM itself and drains for --shutdown-timeout. System.CommandLine's own
// handler would end the process 2 seconds after the signal with exit code 130/143, cutting the drain short.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await command.Parse(args).InvokeAsync(invocation);
