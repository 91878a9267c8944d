using System.Net;
using System.Net.Sockets;
using FileXfer.Platform;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Net;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Client.Tests;

/// <summary>
/// A fake server on 127.0.0.1:0 that speaks the protocol honestly up to the handshake, then answers every request
/// through a scripted responder that may lie: wrong hashes, unsafe names, bodies cut short.
/// </summary>
public sealed class HostileServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<HostileConnection, Frame, CancellationToken, Task> _respond;
    private readonly Capabilities _capabilities;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _requests;

    /// <param name="respond">Answers each request.</param>
    /// <param name="capabilities">What the Welcome claims to support; <see cref="Capabilities.Trees"/> lets the client list recursively.</param>
    public HostileServer(Func<HostileConnection, Frame, CancellationToken, Task> respond, Capabilities capabilities = Capabilities.None)
    {
        _respond = respond;
        _capabilities = capabilities;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = Task.Run(() => AcceptAsync(_stop.Token));
    }

    /// <summary>The address as the client takes it: <c>127.0.0.1:PORT</c>.</summary>
    public string Address => EndPoint.ToString();

    /// <summary>The address as the library takes it.</summary>
    public HostPort EndPoint => new("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);

    /// <summary>How many requests the responder was given.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>A responder that sends a file's Data frame, its body and a BodyEnd with the given (wrong) hash.</summary>
    public static Func<HostileConnection, Frame, CancellationToken, Task> SendBody(byte[] body, byte[] claimedHash) =>
        async (connection, request, cancellationToken) =>
        {
            var algorithm = request.GetString(FieldTag.HashAlgorithm);
            await connection.Writer.WriteAsync(Messages.Data(request.RequestId, body.Length, algorithm, DateTimeOffset.UnixEpoch, 0x1A4), cancellationToken);
            await connection.Stream.WriteAsync(body, cancellationToken);
            await connection.Writer.WriteAsync(Messages.BodyEnd(request.RequestId, algorithm, claimedHash), cancellationToken);
        };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }

    private async Task AcceptAsync(CancellationToken cancellationToken)
    {
        var connections = new List<Task>();
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException || (ex is SocketException or ObjectDisposedException && cancellationToken.IsCancellationRequested))
            {
                break;
            }

            connections.Add(ServeAsync(socket, cancellationToken));
        }

        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(Socket socket, CancellationToken cancellationToken)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        using var reader = new ProtocolReader(stream);
        var writer = new FrameWriter(stream) { AutoFlush = true };
        var connection = new HostileConnection(socket, stream, reader, writer);
        try
        {
            await reader.ReadMagicAsync(cancellationToken);
            var hello = await reader.ReadRequiredFrameAsync(cancellationToken);
            Assert.Equal(MessageType.Hello, hello.Type);
            await writer.WriteMagicAsync(cancellationToken);
            // A server that claims to require authentication sends a nonce, so the client goes on to Authenticate.
            var nonce = _capabilities.HasFlag(Capabilities.Authentication) ? SecureRandom.GetBytes(ProtocolLimits.AuthBytes) : null;
            connection.Hello = hello;
            connection.ServerNonce = nonce;
            await writer.WriteAsync(Messages.Welcome(ProtocolLimits.Version, _capabilities, "hostile/1.0", 1L << 40, nonce), cancellationToken);
            while (!connection.IsClosed)
            {
                var request = await reader.ReadFrameAsync(cancellationToken);
                if (request is null)
                {
                    break;
                }

                Interlocked.Increment(ref _requests);
                await _respond(connection, request, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client hung up on a lie, or the test is over; either way this connection is done.
        }
    }
}
