namespace FileXfer.Server.Storage;

/// <summary>
/// One connection's place in the <see cref="RunFence"/>, for a store session: joined once, at the handshake, with
/// the token's scope and the Hello's ticket; then asked whether the connection was declared abandoned, and the gate
/// its uploads are published through. A session that never joined (a client older than the fence) is never fenced.
/// </summary>
public sealed class RunMember(RunFence fence)
{
    private RunTicket? _ticket;
    private string _scope = string.Empty;

    /// <summary>The ticket the connection joined with; null when it never joined.</summary>
    public RunTicket? Ticket => _ticket;

    /// <summary>The scope (the token's name) the connection joined in.</summary>
    public string Scope => _scope;

    /// <summary>True once a later connection of the run declared this one abandoned.</summary>
    public bool IsAbandoned => _ticket is { } ticket && fence.IsAbandoned(_scope, ticket);

    /// <summary>Records the connections <paramref name="ticket"/> declares abandoned, and this connection's place.</summary>
    public void Join(string scope, RunTicket ticket)
    {
        fence.Declare(scope, ticket);
        (_scope, _ticket) = (scope, ticket);
    }

    /// <summary>Runs <paramref name="publish"/> unless this connection was declared abandoned (see <see cref="RunFence.TryPublish"/>).</summary>
    public bool TryPublish<T>(Func<T> publish, out T? result) => fence.TryPublish(_scope, _ticket, publish, out result);

    /// <summary>Why an upload of an abandoned connection was not stored.</summary>
    public static FileXferException NotStored(string path) =>
        new(ErrorCode.TransferAborted, $"'{RemotePath.Escape(path)}' was not stored: its client gave this connection up and retried on another");
}
