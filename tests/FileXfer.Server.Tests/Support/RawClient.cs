using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FileXfer.Platform;
using FileXfer.Protocol;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Hashing;
using FileXfer.Protocol.Net;
using FileXfer.Protocol.Security;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Server.Tests.Support;

/// <summary>
/// A bare-bones client over a real socket that speaks frames through the protocol's own reader and writer,
/// and can just as well send bytes no real client would.
/// </summary>
public sealed class RawClient : IAsyncDisposable
{
    public const string Agent = "raw-test-client/1";

    private readonly Socket _socket;
    private readonly GuardedNetworkStream _stream;
    private readonly ProtocolReader _reader;
    private readonly FrameWriter _writer;

    private RawClient(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new GuardedNetworkStream(new NetworkStream(socket, ownsSocket: true));
        _reader = new ProtocolReader(_stream);
        _writer = new FrameWriter(_stream);
    }

    public static Task<RawClient> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken) =>
        ConnectFromAsync(endPoint, localAddress: null, cancellationToken);

    /// <summary>
    /// Connects from <paramref name="localAddress"/>, such as 127.0.0.2: Linux routes all of 127/8 to the loopback
    /// interface, so tests can play clients on many addresses.
    /// </summary>
    public static async Task<RawClient> ConnectFromAsync(IPEndPoint endPoint, IPAddress? localAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (localAddress is not null)
            {
                socket.Bind(new IPEndPoint(localAddress, 0));
            }

            await socket.ConnectAsync(endPoint, cancellationToken);
        }
        catch (Exception)
        {
            socket.Dispose();
            throw;
        }

        return new RawClient(socket);
    }

    // A test client sends each thing at once, so tests control exactly what is on the wire and when.
    public async Task SendMagicAsync(CancellationToken cancellationToken)
    {
        await _writer.WriteMagicAsync(cancellationToken);
        await _writer.FlushAsync(cancellationToken);
    }

    public async Task SendAsync(Frame frame, CancellationToken cancellationToken)
    {
        await _writer.WriteAsync(frame, cancellationToken);
        await _writer.FlushAsync(cancellationToken);
    }

    public Task SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) => _stream.WriteAsync(bytes, cancellationToken).AsTask();

    public Task SendHelloAsync(int version, CancellationToken cancellationToken) =>
        SendAsync(Messages.Hello(version, Capabilities.None, Agent), cancellationToken);

    public Task ReadMagicAsync(CancellationToken cancellationToken) => _reader.ReadMagicAsync(cancellationToken).AsTask();

    /// <summary>The next frame; the connection closing first fails the test.</summary>
    public Task<Frame> ReadAsync(CancellationToken cancellationToken) => _reader.ReadRequiredFrameAsync(cancellationToken).AsTask();

    /// <summary>The next frame, which must be of <paramref name="type"/>.</summary>
    public async Task<Frame> ReadAsync(MessageType type, CancellationToken cancellationToken)
    {
        var frame = await ReadAsync(cancellationToken);
        if (frame.Type != type)
        {
            var detail = frame.Type == MessageType.Error ? $": {Messages.ToException(frame).Code} {frame.GetStringOrNull(FieldTag.Message)}" : string.Empty;
            Assert.Fail($"expected {type}, got {frame}{detail}");
        }

        return frame;
    }

    /// <summary>Reads body bytes that follow a Data frame.</summary>
    public async Task<byte[]> ReadBodyAsync(long length, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        await _reader.CopyBodyToAsync(body, length, hasher: null, progress: null, cancellationToken);
        return body.ToArray();
    }

    /// <summary>Sends the magic and Hello, and returns the Welcome after checking the server's magic.</summary>
    public async Task<Frame> HandshakeAsync(CancellationToken cancellationToken)
    {
        await SendMagicAsync(cancellationToken);
        await SendHelloAsync(ProtocolLimits.Version, cancellationToken);
        await ReadMagicAsync(cancellationToken);
        return await ReadAsync(MessageType.Welcome, cancellationToken);
    }

    /// <summary>Sends the magic and <paramref name="hello"/> as it is, and returns the Welcome.</summary>
    public async Task<Frame> HelloAsync(Frame hello, CancellationToken cancellationToken)
    {
        await SendMagicAsync(cancellationToken);
        await SendAsync(hello, cancellationToken);
        await ReadMagicAsync(cancellationToken);
        return await ReadAsync(MessageType.Welcome, cancellationToken);
    }

    /// <summary>Sends the magic and a Hello with <paramref name="clientNonce"/>, and returns the Welcome.</summary>
    public Task<Frame> HandshakeWithNonceAsync(byte[]? clientNonce, CancellationToken cancellationToken) =>
        HandshakeWithAsync(clientNonce, ticket: null, cancellationToken);

    /// <summary>Sends the magic and a Hello with <paramref name="clientNonce"/> and <paramref name="ticket"/> (each when not null), and returns the Welcome.</summary>
    public async Task<Frame> HandshakeWithAsync(byte[]? clientNonce, RunTicket? ticket, CancellationToken cancellationToken)
    {
        await SendMagicAsync(cancellationToken);
        await SendAsync(Messages.Hello(ProtocolLimits.Version, Capabilities.Authentication, Agent, clientNonce, ticket), cancellationToken);
        await ReadMagicAsync(cancellationToken);
        return await ReadAsync(MessageType.Welcome, cancellationToken);
    }

    /// <summary>
    /// The handshake and an Authenticate as <paramref name="name"/> with a proof keyed by <paramref name="secret"/>;
    /// returns the server's answer (Ok or Error) and the nonces, to check the server's proof.
    /// </summary>
    public Task<(Frame Answer, byte[] ClientNonce, byte[] ServerNonce)> AuthenticateAsync(string name, string secret, CancellationToken cancellationToken) =>
        AuthenticateAsync(name, secret, ticket: null, cancellationToken);

    /// <summary>As <see cref="AuthenticateAsync(string, string, CancellationToken)"/>, with <paramref name="ticket"/> in the Hello.</summary>
    public async Task<(Frame Answer, byte[] ClientNonce, byte[] ServerNonce)> AuthenticateAsync(string name, string secret, RunTicket? ticket, CancellationToken cancellationToken)
    {
        var clientNonce = SecureRandom.GetBytes(ProtocolLimits.AuthBytes);
        var welcome = await HandshakeWithAsync(clientNonce, ticket, cancellationToken);
        var serverNonce = welcome.GetBytes(FieldTag.ServerNonce);
        await SendAsync(Messages.Authenticate(name, AuthProof.ForClient(System.Text.Encoding.UTF8.GetBytes(secret), clientNonce, serverNonce, name)), cancellationToken);
        return (await ReadAsync(cancellationToken), clientNonce, serverNonce);
    }

    /// <summary>A whole put with the true SHA-256 of <paramref name="content"/>; see <see cref="PutClaimingAsync"/>.</summary>
    public Task<Frame> PutAsync(uint requestId, string path, byte[] content, CancellationToken cancellationToken) =>
        PutClaimingAsync(requestId, path, content, SHA256.HashData(content), cancellationToken);

    /// <summary>
    /// A whole put: the request, Ready, the body, BodyEnd with <paramref name="claimedHash"/>. Returns the final
    /// answer, or the Error that came instead of Ready.
    /// </summary>
    public async Task<Frame> PutClaimingAsync(uint requestId, string path, byte[] content, byte[] claimedHash, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var ready = await StartPutAsync(requestId, path, content.Length, cancellationToken);
        if (ready.Type != MessageType.Ready)
        {
            return ready;
        }

        await SendRawAsync(content, cancellationToken);
        await SendAsync(Messages.BodyEnd(requestId, HashAlgorithms.Sha256, claimedHash), cancellationToken);
        return await ReadAsync(cancellationToken);
    }

    /// <summary>Sends a Put of <paramref name="size"/> bytes and returns the server's first answer (Ready or Error).</summary>
    public async Task<Frame> StartPutAsync(uint requestId, string path, long size, CancellationToken cancellationToken)
    {
        await SendAsync(Messages.Put(requestId, path, size, HashAlgorithms.Sha256, modified: null, mode: null), cancellationToken);
        return await ReadAsync(cancellationToken);
    }

    /// <summary>
    /// Reads until the server closes the connection and returns the frames that came before; fails when the
    /// connection stays open past the token.
    /// </summary>
    public async Task<IReadOnlyList<Frame>> ReadUntilClosedAsync(CancellationToken cancellationToken)
    {
        var frames = new List<Frame>();
        try
        {
            while (await _reader.ReadFrameAsync(cancellationToken) is { } frame)
            {
                frames.Add(frame);
            }
        }
        catch (ConnectionLostException)
        {
            // A reset is a close too: the server may have had unread bytes of ours when it closed.
        }

        return frames;
    }

    /// <summary>Reads raw bytes until the server closes the connection and returns them.</summary>
    public async Task<byte[]> ReadRawUntilClosedAsync(CancellationToken cancellationToken)
    {
        using var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await _stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (ConnectionLostException)
        {
            // A reset is a close too.
        }

        return received.ToArray();
    }

    /// <summary>Ends what this side sends (the server reads end of stream) while answers can still be read.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>Closes the connection at once with a reset, as a crashed client would.</summary>
    public void Abort()
    {
        _socket.LingerState = new LingerOption(enable: true, seconds: 0);
        _socket.Close();
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync();
    }
}
