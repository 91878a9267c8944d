using System.Net;
using System.Net.Sockets;

namespace FileXfer.Client.Tests.Faults;

/// <summary>Raw byte traffic over real sockets, for testing the proxy without any protocol on top.</summary>
public static class RawSockets
{
    /// <summary>Connects to <paramref name="endPoint"/>; the stream owns the socket.</summary>
    public static async Task<NetworkStream> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            throw;
        }

        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Writes <paramref name="bytes"/>, then ends this direction of the connection (a FIN; reading goes on).</summary>
    public static async Task SendAndFinishAsync(NetworkStream stream, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        await stream.WriteAsync(bytes, cancellationToken);
        stream.Socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>
    /// Reads until the peer ends the stream or resets the connection, and tells which: a reset is reported, not
    /// thrown, because the tests that cause one want to look at the bytes that came before it.
    /// </summary>
    public static async Task<(byte[] Bytes, bool Reset)> ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                received.Write(buffer, 0, read);
            }

            return (received.ToArray(), false);
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return (received.ToArray(), true);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to a peer the proxy may cut off mid-way; true when all were accepted by the socket.</summary>
    public static async Task<bool> TrySendAsync(Stream stream, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            await stream.WriteAsync(bytes, cancellationToken);
            return true;
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.Shutdown or SocketError.ConnectionAborted })
        {
            // The proxy cut the connection: the test is about what arrived before that.
            return false;
        }
    }
}
