namespace FileXfer.Server.Handlers;

/// <summary>Which connections a stored file is sent to with <c>sendfile(2)</c> (see <see cref="FileXferHandlerOptions.SendFile"/>).</summary>
public enum SendFileUse
{
    /// <summary>None: stored files are copied through a buffer.</summary>
    Never,

    /// <summary>
    /// Peers on other hosts. A peer on loopback gets a copy instead: measured here over loopback, receiving the
    /// page-cache pieces sendfile queues costs the receiving process more CPU than the copy costs the server (a
    /// verified 1 GiB get: client 1.80 -> 1.47 s, server 0.35 -> 0.48 s, 8% faster; 21% with xxh128).
    /// </summary>
    RemotePeers,

    /// <summary>Every plain TCP connection, loopback included.</summary>
    Always,
}
