using System.Globalization;
using System.Net;

namespace FileXfer.Protocol.Net;

/// <summary>A <c>HOST:PORT</c> pair as users write it: <c>127.0.0.1:7070</c>, <c>localhost:7070</c>, <c>[::1]:7070</c>.</summary>
/// <param name="Host">A host name or an IP address (without brackets).</param>
/// <param name="Port">0 to 65535.</param>
public sealed record HostPort(string Host, int Port)
{
    /// <summary>The default address of a server: <c>127.0.0.1:7070</c>.</summary>
    public static HostPort Default { get; } = new("127.0.0.1", 7070);

    /// <summary>Parses <c>HOST:PORT</c>; IPv6 addresses go in brackets.</summary>
    public static bool TryParse(string? text, out HostPort? value, out string? error)
    {
        value = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "address is empty; expected HOST:PORT";
            return false;
        }

        string host;
        string portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':')
            {
                error = $"'{text}' is not [IPV6]:PORT";
                return false;
            }

            host = text[1..close];
            portText = text[(close + 2)..];
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                error = $"'{text}' is not HOST:PORT (write IPv6 addresses as [ADDR]:PORT)";
                return false;
            }

            host = text[..colon];
            portText = text[(colon + 1)..];
        }

        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            error = $"'{portText}' is not a port number from 0 to 65535";
            return false;
        }

        if (host.Length == 0)
        {
            error = "host is empty";
            return false;
        }

        value = new HostPort(host, port);
        return true;
    }

    /// <summary>Formats an endpoint as <c>HOST:PORT</c>, bracketing IPv6 addresses.</summary>
    public static string Format(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        return endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{endPoint.Address}]:{endPoint.Port}"
            : $"{endPoint.Address}:{endPoint.Port}";
    }

    /// <inheritdoc />
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
