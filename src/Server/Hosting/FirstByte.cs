using System.Net.Sockets;

namespace FileXfer.Server.Hosting;

/// <summary>
/// The first byte a peer sends, looked at without being consumed: what it speaks (TLS or not), or that it said nothing
/// at all before it closed.
/// </summary>
internal static class FirstByte
{
    /// <summary>
    /// Waits for the peer's first byte and returns it, leaving it to be read; null when the peer closed the connection,
    /// or reset it, before sending one.
    /// </summary>
    /// <exception cref="ConnectionLostException">The connection broke otherwise.</exception>
    public static async Task<byte?> PeekAsync(Socket socket, CancellationToken cancellationToken)
    {
        var first = new byte[1];
        try
        {
            int received = await socket.ReceiveAsync(first, SocketFlags.Peek, cancellationToken);
            return received == 0 ? null : first[0];
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // A load balancer's TCP health check closes with a reset (so that it keeps no TIME_WAIT): closed all the same.
            return null;
        }
        catch (SocketException ex)
        {
            throw new ConnectionLostException($"connection lost: {ex.Message}", ex);
        }
    }
}
