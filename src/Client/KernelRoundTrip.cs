using System.Buffers.Binary;
using System.Net.Sockets;

namespace FileXfer.Client;

/// <summary>
/// The kernel's smoothed round-trip time of a TCP connection (Linux <c>TCP_INFO</c>, <c>tcpi_rtt</c>): measured by the
/// kernel from its own packets' timestamps, so a loaded machine whose threads wait for a core does not read as a long
/// link, as a round trip timed in the program would.
/// </summary>
internal static class KernelRoundTrip
{
    private const int SolTcp = 6;
    private const int TcpInfo = 11;

    // struct tcp_info: 8 bytes of u8 fields, then u32s; tcpi_rtt (microseconds) is the 16th of them.
    private const int RttOffset = 68;

    /// <summary>The round trip the kernel measured on <paramref name="socket"/>, or null where it cannot say.</summary>
    public static TimeSpan? Read(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Span<byte> info = stackalloc byte[256];
        try
        {
            int length = socket.GetRawSocketOption(SolTcp, TcpInfo, info);
            return length >= RttOffset + sizeof(uint)
                ? TimeSpan.FromMicroseconds(BinaryPrimitives.ReadUInt32LittleEndian(info[RttOffset..]))
                : null;
        }
        catch (SocketException)
        {
            // Not a TCP socket the kernel describes: the program's own measure stands.
            return null;
        }
    }
}
