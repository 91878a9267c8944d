using System.Net.Sockets;
using FileXfer.Protocol.Net;

namespace FileXfer.Server.Storage.Local;

/// <summary>
/// Sends part of a file straight from the page cache to a socket (<c>sendfile(2)</c>, through
/// <see cref="Socket.SendPacketsAsync(SocketAsyncEventArgs)"/>): the bytes never pass through this process.
/// Only for a plain TCP connection: under TLS the bytes must pass through the process to be encrypted.
/// </summary>
internal static class FileSender
{
    // Each piece is one sendfile operation with its own stall deadline, so a piece must be sent well within the
    // deadline even on a slow link: pieces follow the measured rate, a quarter of the deadline's worth of bytes.
    private const int FirstPiece = 1024 * 1024;
    private const int SmallestPiece = 256 * 1024;
    private const int LargestPiece = 64 * 1024 * 1024;

    /// <summary>Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/>.</summary>
    /// <param name="socket">The connection, plain TCP.</param>
    /// <param name="file">The file, opened with <see cref="FileOptions.Asynchronous"/>.</param>
    /// <param name="offset">Where in the file to start.</param>
    /// <param name="count">How many bytes to send.</param>
    /// <param name="stallTimeout">How long one piece may make no progress.</param>
    /// <param name="timeProvider">The clock <paramref name="stallTimeout"/> and the pieces' rate are measured on.</param>
    /// <param name="cancellationToken">Cancels the send (by closing the socket).</param>
    /// <exception cref="ConnectionLostException">The peer went away or made no progress within <paramref name="stallTimeout"/>.</exception>
    /// <exception cref="EndOfStreamException">The file ended before <paramref name="count"/> bytes (it shrank): the connection is
    /// left in the middle of a body and must be given up.</exception>
    public static async Task SendAsync(Socket socket, FileStream file, long offset, long count, TimeSpan? stallTimeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(timeProvider);
        using var args = new SocketAsyncEventArgs();
        var completion = new PieceCompletion();
        args.Completed += (_, e) => completion.Complete(e);
        long pieceBytes = FirstPiece;
        while (count > 0)
        {
            int piece = (int)Math.Min(pieceBytes, count);
            long started = timeProvider.GetTimestamp();
            args.SendPacketsElements = [new SendPacketsElement(file, offset, piece, endOfPacket: false)];
            completion.Reset();
            using (var deadline = new LinkedTimeoutSource(stallTimeout ?? Timeout.InfiniteTimeSpan, timeProvider, cancellationToken))
            {
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
                    if (deadline.IsCancellationRequested)
                    {
                        throw new ConnectionLostException($"the connection stalled: no progress for {stallTimeout!.Value.TotalSeconds:F0} s");
                    }

                    // .NET refuses a range that reaches past the end of the file: it shrank since the send began.
                    if (file.Length < offset + piece)
                    {
                        throw new EndOfStreamException($"the file ended {offset + piece - file.Length} bytes early");
                    }

                    throw new ConnectionLostException($"connection lost while sending a file: {error}");
                }
            }

            // sendfile(2) stops early, without an error, where the file ends.
            if (args.BytesTransferred != piece)
            {
                throw new EndOfStreamException($"the file ended {count - args.BytesTransferred} bytes early");
            }

            offset += piece;
            count -= piece;
            pieceBytes = NextPiece(piece, timeProvider.GetElapsedTime(started), stallTimeout);
        }
    }

    /// <summary>The bytes that go in a quarter of <paramref name="stallTimeout"/> at the rate of the last piece, within bounds.</summary>
    internal static long NextPiece(int lastPiece, TimeSpan lastTook, TimeSpan? stallTimeout)
    {
        if (stallTimeout is not { } timeout)
        {
            return LargestPiece;
        }

        double seconds = Math.Max(lastTook.TotalSeconds, 1e-4);
        double fits = lastPiece / seconds * timeout.TotalSeconds / 4;
        return (long)Math.Clamp(fits, SmallestPiece, LargestPiece);
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
