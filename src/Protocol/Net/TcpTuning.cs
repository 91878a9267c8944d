using System.Globalization;
using System.Net.Sockets;

namespace FileXfer.Protocol.Net;

/// <summary>
/// TCP settings applied to every connection, by the client when it connects and by the server when it accepts. By
/// default none: the kernel's autotuned buffers and the congestion control the system is configured with (never
/// overridden here; BBR where the operator enabled it). docs/performance/issue-17-wan-bed.md ("TCP settings on long
/// links") has the measurements behind that default. For such measurements the environment can set each one:
/// <c>FILEXFER_TCP_NOTSENT_LOWAT</c> (bytes, Linux <c>TCP_NOTSENT_LOWAT</c>), <c>FILEXFER_TCP_SNDBUF</c> and
/// <c>FILEXFER_TCP_RCVBUF</c> (bytes; setting them turns the kernel's autotuning of that buffer off).
/// </summary>
/// <param name="NotSentLowWater">The most unsent bytes the kernel keeps queued before a write waits; null: the system's.</param>
/// <param name="SendBuffer">SO_SNDBUF; null: autotuned.</param>
/// <param name="ReceiveBuffer">SO_RCVBUF; null: autotuned.</param>
public sealed record TcpTuning(int? NotSentLowWater, int? SendBuffer, int? ReceiveBuffer)
{
    private const int TcpNotSentLowAt = 25; // linux/tcp.h

    /// <summary>No setting: the system's defaults.</summary>
    public static TcpTuning None { get; } = new(null, null, null);

    /// <summary>
    /// The settings the environment asks for (see the type's summary); a variable that is not a positive number is
    /// ignored.
    /// </summary>
    public static TcpTuning FromEnvironment() => new(
        Read("FILEXFER_TCP_NOTSENT_LOWAT"), Read("FILEXFER_TCP_SNDBUF"), Read("FILEXFER_TCP_RCVBUF"));

    /// <summary>Applies the settings to <paramref name="socket"/> (a TCP socket, before it connects or once accepted).</summary>
    public void Apply(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (SendBuffer is { } send)
        {
            socket.SendBufferSize = send;
        }

        if (ReceiveBuffer is { } receive)
        {
            socket.ReceiveBufferSize = receive;
        }

        if (NotSentLowWater is { } lowWater && OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption((int)SocketOptionLevel.Tcp, TcpNotSentLowAt, BitConverter.GetBytes(lowWater));
        }
    }

    private static int? Read(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : null;
}
