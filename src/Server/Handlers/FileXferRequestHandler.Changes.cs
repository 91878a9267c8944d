namespace FileXfer.Server.Handlers;

/// <summary>The requests that change the tree besides put: mkdir and delete.</summary>
public sealed partial class FileXferRequestHandler
{
    private async Task<long> MakeDirectoryAsync(Frame request, CancellationToken cancellationToken)
    {
        RequireWrite("mkdir");
        var modified = Messages.ReadModified(request);
        var mode = Messages.ReadMode(request);
        var made = await Store.MakeDirectoryAsync(request.GetString(FieldTag.Path), modified, mode, Messages.ReadParentModified(request), cancellationToken);
        ReportParentTime(request.RequestId, nameof(MessageType.MakeDirectory), made.Entry.Name, made.ParentTimeFailure);
        var ok = Messages.Describe(MessageType.Ok, request.RequestId, made.Entry);
        await Writer.WriteAsync(Messages.WithParentTimeNotSet(ok, made.ParentTimeFailure is not null), cancellationToken);
        return 0;
    }

    /// <summary>
    /// Logs, once per directory for the whole server, that the parent time of a request adding <paramref name="path"/>
    /// could not be set (<paramref name="failure"/>; nothing when null). The request's Ok says so to its client. The
    /// directory is known by where it is on the server (below the token's subtree), and logged as the client named it,
    /// with the token's name and subtree when the client has a token.
    /// </summary>
    private void ReportParentTime(uint requestId, string operation, string path, string? failure)
    {
        if (failure is null)
        {
            return;
        }

        int slash = path.LastIndexOf('/');
        var directory = slash < 0 ? string.Empty : path[..slash];
        if (!options.ParentTimeWarnings.FirstFor(_token?.Subtree ?? string.Empty, directory))
        {
            return;
        }

        var shown = RemotePath.Escape(directory.Length == 0 ? "/" : directory);
        if (_token is { } token)
        {
            ServerLog.ParentTimeNotSetForToken(logger, Connection.Id, requestId, operation, RemotePath.Escape(token.Name), shown, "/" + RemotePath.Escape(token.Subtree), failure);
        }
        else
        {
            ServerLog.ParentTimeNotSet(logger, Connection.Id, requestId, operation, shown, failure);
        }
    }

    private async Task<long> DeleteAsync(Frame request, CancellationToken cancellationToken)
    {
        RequireWrite("rm");
        var entry = await Store.DeleteAsync(request.GetString(FieldTag.Path), cancellationToken);
        await Writer.WriteAsync(Messages.Describe(MessageType.Ok, request.RequestId, entry), cancellationToken);
        return 0;
    }
}
