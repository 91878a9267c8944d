using System.Collections.Concurrent;
using FileXfer.Server.Hosting;

namespace FileXfer.Server.Tests.Support;

/// <summary>A handler that records its calls and, for odd connection ids, fails in <see cref="HandleAsync"/>.</summary>
public sealed class RecordingHandler(ConnectionContext connection, ConcurrentQueue<string> calls) : RequestHandler(connection)
{
    public override ValueTask SetupAsync(CancellationToken cancellationToken)
    {
        calls.Enqueue($"{Connection.Id}:setup");
        return ValueTask.CompletedTask;
    }

    public override async Task HandleAsync(CancellationToken cancellationToken)
    {
        calls.Enqueue($"{Connection.Id}:handle");
        if (Connection.Id % 2 == 1)
        {
            throw new InvalidOperationException($"handler of connection {Connection.Id} failed");
        }

        await Connection.Socket.SendAsync("bye"u8.ToArray(), cancellationToken);
    }

    public override ValueTask FinishAsync()
    {
        calls.Enqueue($"{Connection.Id}:finish");
        return ValueTask.CompletedTask;
    }
}
