using System.CommandLine;
using FileXfer.Server;

// Not System.Console, which would leave a terminal in keypad mode (see StandardStream). A closed stdout or stderr
// loses its lines, as it did through Console.
var stdout = StandardStream.Writer(StandardStream.Output, _ => null);
var stderr = StandardStream.Writer(StandardStream.Error, _ => null);
return await ServerCommand.InvokeAsync(
    args,
    stdout,
    stderr,
    // The server handles SIGINT and SIGTERM itself and drains for --shutdown-timeout. System.CommandLine's own
    // handler would end the process 2 seconds after the signal with exit code 130/143, cutting the drain short.
    new InvocationConfiguration { ProcessTerminationTimeout = null, Output = stdout, Error = stderr },
    // Logs go to stderr through a buffered writer, flushed once per batch of lines; a failed write is counted by
    // LineLoggerProvider as dropped lines.
    () => new StreamWriter(new StandardStream(StandardStream.Error), new System.Text.UTF8Encoding(false), 64 * 1024) { AutoFlush = false });
