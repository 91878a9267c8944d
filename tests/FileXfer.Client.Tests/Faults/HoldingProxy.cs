using System.Net;
using System.Net.Sockets;

namespace FileXfer.Client.Tests.Faults;

/// <summary>
/// A proxy for one connection that plays a network delaying a client's bytes: it forwards both ways until
/// <see cref="Hold"/>, then keeps reading what the client sends without forwarding it, until <see cref="Release"/>
/// delivers it all to the server, followed by the client's end of stream (as TCP would deliver bytes written before a
/// close). The server's bytes always pass.
/// </summary>
public sealed class HoldingProxy : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _clientEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _serverEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private readonly MemoryStream _held = new();
    private readonly List<(long Bytes, TaskCompletionSource Reached)> _waiters = [];
    private readonly Task _running;
    private volatile bool _holding;

    public HoldingProxy(IPEndPoint target)
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _running = Task.Run(() => RunAsync(target, _stop.Token));
    }

    /// <summary>Where the client connects.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Completes when the client has ended its side of the connection (closed it): everything it sent is held or forwarded.</summary>
    public Task ClientEnded => _clientEnded.Task;

    /// <summary>Completes when the server has closed its side of the connection.</summary>
    public Task ServerEnded => _serverEnded.Task;

    /// <summary>From now on the client's bytes are held.</summary>
    public void Hold() => _holding = true;

    /// <summary>Completes once at least <paramref name="bytes"/> bytes are held.</summary>
    public Task HeldAtLeastAsync(long bytes)
    {
        lock (_lock)
        {
            if (_held.Length >= bytes)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((bytes, reached));
            return reached.Task;
        }
    }

    /// <summary>Delivers the held bytes to the server, then the client's end of stream once it ended.</summary>
    public void Release() => _release.TrySetResult();

    private async Task RunAsync(IPEndPoint target, CancellationToken cancellationToken)
    {
        using var client = await _listener.AcceptAsync(cancellationToken);
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await server.ConnectAsync(target, cancellationToken);
        var down = PumpAsync(server, client, cancellationToken);
        await UpAsync(client, server, cancellationToken);
        await down;
        _serverEnded.TrySetResult();
    }

    private async Task UpAsync(Socket client, Socket server, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await client.ReceiveAsync(buffer, cancellationToken)) > 0)
            {
                if (!_holding)
                {
                    await server.SendAsync(buffer.AsMemory(0, read), cancellationToken);
                    continue;
                }

                lock (_lock)
                {
                    _held.Write(buffer, 0, read);
                    foreach (var waiter in _waiters.Where(w => _held.Length >= w.Bytes))
                    {
                        waiter.Reached.TrySetResult();
                    }
                }
            }
        }
        catch (SocketException)
        {
            // A reset ends the client's side as well.
        }

        _clientEnded.TrySetResult();
        await _release.Task.WaitAsync(cancellationToken);
        await server.SendAsync(_held.ToArray(), cancellationToken);
        server.Shutdown(SocketShutdown.Send);
    }

    private static async Task PumpAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, cancellationToken)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        catch (SocketException)
        {
            // Either side is gone: so is the connection.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _running;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stop.Dispose();
        _held.Dispose();
    }
}
