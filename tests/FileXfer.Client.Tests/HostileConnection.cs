using System.Net.Sockets;
using FileXfer.Protocol.Framing;
using FileXfer.Protocol.Transfer;

namespace FileXfer.Client.Tests;

/// <summary>One accepted connection of a <see cref="HostileServer"/>, after the handshake.</summary>
public sealed class HostileConnection(Socket socket, Stream stream, ProtocolReader reader, FrameWriter writer)
{
    /// <summary>Reads frames and bodies from the client.</summary>
    public ProtocolReader Reader { get; } = reader;

    /// <summary>Writes frames to the client.</summary>
    public FrameWriter Writer { get; } = writer;

    /// <summary>The raw stream, for writing body bytes that no honest server would send.</summary>
    public Stream Stream { get; } = stream;

    /// <summary>The client's Hello.</summary>
    public Frame? Hello { get; internal set; }

    /// <summary>The nonce of the Welcome, when the server claims to require authentication.</summary>
    public byte[]? ServerNonce { get; internal set; }

    /// <summary>True once <see cref="Close"/> was called: the server stops serving this connection.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>Closes the connection at once, wherever the conversation is.</summary>
    public void Close()
    {
        IsClosed = true;
        socket.Shutdown(SocketShutdown.Both);
        socket.Close();
    }
}
