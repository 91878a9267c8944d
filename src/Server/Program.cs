using System.CommandLine;
using FileXfer.Server;

return await ServerCommand.InvokeAsync(
    args,
    Console.Out,
    Console.Error,
    // The server handles SIGINT and SIGTERM itself and drains for --shutdown-timeout. System.CommandLine's own
    // handler would end the process 2 seconds after the signal with exit code 130/143, cutting the drain short.
    new InvocationConfiguration { ProcessTerminationTimeout = null },
    // Logs go to stderr through a buffered writer, flushed once per batch of lines (see LineLoggerProvider).
    () => new StreamWriter(Console.OpenStandardError(), new System.Text.UTF8Encoding(false), 64 * 1024) { AutoFlush = false });
