using System.Net.Sockets;
using FileXfer.Protocol;

namespace FileXfer.Server.Hosting;

/// <summary>
/// Sends part of a file straight from the page cache to a socket (<c>sendfile(2)</c>, through
/// <see cref="Socket.SendPacketsAsync(SocketAsyncEventArgs)"/>): the bytes never pass through this process.
/// Only for a plain TCP connection whose bytes need no hashing on the way.
/// </summary>
internal static class FileSender
{
    // Each piece is one sendfile operation, with its own stall deadline.
    private const int PieceBytes = 8 * 1024 * 1024;

    /// <summary>Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/>.</summary>
    /// <exception cref="ConnectionLostException">The peer went away or made no progress within <paramref name="stallTimeout"/>.</exception>
    public static async Task SendAsync(Socket socket, FileStream file, long offset, long count, TimeSpan? stallTimeout, CancellationToken cancellationToken)
    {
        using var args = new SocketAsyncEventArgs();
        var completion = new PieceCompletion();
        args.Completed += (_, e) => completion.Complete(e);
        while (count > 0)
        {
            int piece = (int)Math.Min(PieceBytes, count);
            args.SendPacketsElements = [new SendPacketsElement(file, offset, piece, endOfPacket: false)];
            completion.Reset();
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                if (stallTimeout is { } timeout)
                {
                    deadline.CancelAfter(timeout);
                }

                // A stalled or cancelled send is ended by closing the socket: the operation then completes with an error.
                using var abort = deadline.Token.Register(() => socket.Dispose());
                if (!socket.SendPacketsAsync(args))
                {
                    completion.Complete(args);
                }

                var error = await completion.Task;
                if (error != SocketError.Success)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw deadline.IsCancellationRequested
                        ? new ConnectionLostException($"the client made no progress for {stallTimeout!.Value.TotalSeconds:F0} s")
                        : new ConnectionLostException($"connection lost while sending a file: {error}");
                }
            }

            offset += piece;
            count -= piece;
        }
    }

    private sealed class PieceCompletion
    {
        private TaskCompletionSource<SocketError> _source = NewSource();

        public Task<SocketError> Task => _source.Task;

        public void Reset() => _source = NewSource();

        public void Complete(SocketAsyncEventArgs args) => _source.TrySetResult(args.SocketError);

        private static TaskCompletionSource<SocketError> NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
