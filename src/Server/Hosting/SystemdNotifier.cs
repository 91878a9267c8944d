using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace FileXfer.Server.Hosting;

/// <summary>
/// Tells systemd about the server's state (sd_notify(3)): one datagram of <c>KEY=VALUE</c> lines to the unix socket
/// named by <c>$NOTIFY_SOCKET</c>, which a unit of <c>Type=notify</c> provides. Without that variable (not run by
/// systemd, or by another type of unit) every call does nothing. The protocol is small enough not to need the
/// Generic Host for it: the server has its own host (<see cref="TcpServer"/>).
/// </summary>
internal sealed class SystemdNotifier : IDisposable
{
    /// <summary>The environment variable systemd sets to the socket's path (<c>@</c> first: an abstract name).</summary>
    public const string SocketVariable = "NOTIFY_SOCKET";

    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endPoint;

    /// <param name="socketPath">The value of <c>$NOTIFY_SOCKET</c>, or null or empty when there is none.</param>
    public SystemdNotifier(string? socketPath)
    {
        if (string.IsNullOrEmpty(socketPath))
        {
            return;
        }

        // "@name" is a socket in the abstract namespace, written with a leading NUL.
        _endPoint = new UnixDomainSocketEndPoint(socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>The notifier for this process's environment.</summary>
    public static SystemdNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable(SocketVariable));

    /// <summary>True when there is a socket to tell.</summary>
    public bool Enabled => _socket is not null;

    /// <summary>The server is listening: <c>READY=1</c>, with a status line for <c>systemctl status</c>.</summary>
    public Task ReadyAsync(string status, CancellationToken cancellationToken) =>
        NotifyAsync($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}", cancellationToken);

    /// <summary>The server is reloading its configuration (SIGHUP); <see cref="ReadyAsync"/> follows when done.</summary>
    public Task ReloadingAsync(CancellationToken cancellationToken) =>
        // MONOTONIC_USEC is CLOCK_MONOTONIC, the clock of Stopwatch on Linux; systemd's Type=notify-reload needs it.
        NotifyAsync($"RELOADING=1\nMONOTONIC_USEC={Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000)}", cancellationToken);

    /// <summary>The server stops accepting and drains the transfers in flight.</summary>
    public Task StoppingAsync(string status, CancellationToken cancellationToken) =>
        NotifyAsync($"STOPPING=1\nSTATUS={status}", cancellationToken);

    /// <summary>
    /// Sends one state message. A failure to send is not the server's to act on (systemd gone, or a socket it
    /// cannot write): it is reported as false, never thrown.
    /// </summary>
    public async Task<bool> NotifyAsync(string state, CancellationToken cancellationToken)
    {
        if (_socket is null)
        {
            return false;
        }

        try
        {
            await _socket.SendToAsync(Encoding.UTF8.GetBytes(state), SocketFlags.None, _endPoint!, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            // No one listens there (any more): serving goes on without telling systemd, as sd_notify's callers do.
            return false;
        }
    }

    public void Dispose() => _socket?.Dispose();
}
